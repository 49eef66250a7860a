"""`ringtrail project bots`: show and change a project's bot lists and signals."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.storage.models import Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_the_command_shows_the_defaults_then_changes_and_stores_the_lists(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    shown = backend_invoke("project", "bots", project)
    assert shown.exit_code == 0, shown.output
    assert "allow: -" in shown.output and "behaviour signals: on" in shown.output
    changed = backend_invoke(
        "project", "bots", project, "--allow", "MyUptimeChecker", "--allow", "203.0.113.0/24",
        "--deny", "PartnerScraper", "--no-behaviour", "--data-centres",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "allow: MyUptimeChecker, 203.0.113.0/24" in changed.output
    assert "behaviour signals: off" in changed.output
    assert "data centres are bots: yes" in changed.output
    db.expire_all()
    stored = db.get(Project, world.ours.project.id)
    assert stored is not None and stored.extra["bots"]["deny"] == ["PartnerScraper"]
    cleared = backend_invoke("project", "bots", project, "--clear-allow")
    assert "allow: -" in cleared.output and "deny: PartnerScraper" in cleared.output


def test_an_unusable_entry_is_one_error_line(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke("project", "bots", str(world.ours.project.id), "--deny", "ab")
    assert "too short" in assert_one_error_line(result, 2)
