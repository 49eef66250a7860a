"""/api/v1/projects/{id}/webhook-secret: shown to admins and owners only, rotated, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.storage.models import AuditEntry, Project
from tests.conftest import World
from tests.web.api.keys import project_key


def secret_url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/webhook-secret{tail}"


def test_an_admin_sees_the_secret_and_the_webhook_url_and_the_look_is_logged(
    client: TestClient, world: World, db: Session
) -> None:
    response = client.get(secret_url(world), headers=world.ours.project_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["secret"] == world.ours.project.webhook_secret
    assert body["webhook_url"] == f"/hooks/v1/{world.ours.project.public_key}/calls"
    assert body["previous_valid_until"] is None
    actions = db.scalars(select(AuditEntry.action)).all()
    assert "project.webhook_secret.show" in actions
    assert world.ours.project.webhook_secret not in str(
        db.scalars(select(AuditEntry.changes)).all()
    )


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES, Role.VIEWER])
def test_members_below_admin_never_see_or_rotate_it(
    client: TestClient, world: World, db: Session, role: Role
) -> None:
    auth = project_key(db, world.ours, role)
    shown = client.get(secret_url(world), headers=auth)
    assert shown.status_code == 403
    assert world.ours.project.webhook_secret not in shown.text
    assert client.post(secret_url(world, "/rotate"), headers=auth).status_code == 403


def test_the_outsider_gets_404(client: TestClient, world: World) -> None:
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(secret_url(world), headers=auth).status_code == 404
        assert client.post(secret_url(world, "/rotate"), headers=auth).status_code == 404


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_the_grace_asked(
    client: TestClient, world: World, db: Session
) -> None:
    old = world.ours.project.webhook_secret
    response = client.post(
        secret_url(world, "/rotate"), headers=world.ours.org_auth, json={"grace_hours": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["secret"] != old and len(body["secret"]) >= 40
    assert body["previous_valid_until"] is not None
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    assert (project.webhook_secret, project.previous_webhook_secret) == (body["secret"], old)
    until = project.previous_webhook_secret_until
    assert until is not None and (until - project.created_at).total_seconds() > 1.9 * 3600
    rotated = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "project.webhook_secret.rotate")
    ).one()
    assert old not in str(rotated.changes) and body["secret"] not in str(rotated.changes)
    default = client.post(secret_url(world, "/rotate"), headers=world.ours.org_auth)
    assert default.status_code == 200
    too_long = client.post(
        secret_url(world, "/rotate"), headers=world.ours.org_auth, json={"grace_hours": 1000}
    )
    assert too_long.status_code == 422
