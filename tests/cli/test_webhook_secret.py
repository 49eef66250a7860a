"""`ringtrail project webhook-secret`: prints the signing secret, rotates it with a grace."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.storage.models import Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_the_command_prints_the_secret_and_rotates_it(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    old = project.webhook_secret
    shown = backend_invoke("project", "webhook-secret", str(project.id))
    assert shown.exit_code == 0, shown.output
    assert f"secret: {old}" in shown.output
    assert f"/hooks/v1/{project.public_key}/calls" in shown.output

    rotated = backend_invoke(
        "project", "webhook-secret", str(project.id), "--rotate", "--grace-hours", "48"
    )
    assert rotated.exit_code == 0, rotated.output
    db.expire_all()
    fresh = db.get(Project, project.id)
    assert fresh is not None
    assert f"secret: {fresh.webhook_secret}" in rotated.output
    assert fresh.webhook_secret != old and fresh.previous_webhook_secret == old
    assert "previous secret is accepted until" in rotated.output


def test_an_unknown_project_is_one_error_line(backend_invoke: Invoke, world: World) -> None:
    assert_one_error_line(backend_invoke("project", "webhook-secret", "999999"), 1)
