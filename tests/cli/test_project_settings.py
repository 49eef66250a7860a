"""`ringtrail project list | set` on SQLite and PostgreSQL: every tracking setting, checked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.storage.models import AuditEntry, Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def _project(db: Session, project_id: int) -> Project:
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None
    return project


def test_set_stores_every_tracking_setting_normalised(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    result = backend_invoke(
        "project", "set", str(world.ours.project.id),
        "--allowed-domain", "Bücher.Example", "--allowed-domain", "www.example.com",
        "--main-number", "(044) 123-45-67",
        "--replace-number", "044 765 43 21", "--replace-number", "+1 212 555 0123",
        "--swap-selector", ".phone", "--swap-selector", "#footer .tel",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    project = _project(db, world.ours.project.id)
    assert project.allowed_domains == ["www.example.com", "xn--bcher-kva.example"]
    assert project.main_number == "+380441234567"
    assert project.replace_numbers == ["+380447654321", "+12125550123"]
    assert project.swap_selectors == [".phone", "#footer .tel"]
    assert "replace numbers: +380447654321, +12125550123" in result.stdout
    audit = db.query(AuditEntry).filter(AuditEntry.action == "project.update").one()
    assert audit.actor_kind == "cli"
    assert set(audit.changes) >= {"allowed_domains", "replace_numbers", "swap_selectors"}


def test_clear_empties_a_setting_and_others_stay(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project_id = str(world.ours.project.id)
    backend_invoke("project", "set", project_id, "--main-number", "+380441234567",
                   "--swap-selector", ".phone")  # fmt: skip
    result = backend_invoke("project", "set", project_id, "--clear", "main-number",
                            "--clear", "swap-selectors")  # fmt: skip
    assert result.exit_code == 0, result.output
    project = _project(db, world.ours.project.id)
    assert (project.main_number, project.swap_selectors) == (None, [])
    assert project.allowed_domains == ["acme-realty.example"]


def test_bad_settings_are_refused_in_one_line_naming_the_setting(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project_id = str(world.ours.project.id)
    cases = {
        ("--allowed-domain", "https://example.com/"): "invalid allowed domains",
        ("--swap-selector", ".a {color: red}"): "invalid swap selectors",
        ("--replace-number", "12345"): "invalid replace numbers",
        ("--main-number", "nope"): "invalid main number",
        ("--clear", "colour"): "--clear takes one of",
    }
    for args, message in cases.items():
        result = backend_invoke("project", "set", project_id, *args)
        assert message in assert_one_error_line(result, 2), args
    project = _project(db, world.ours.project.id)
    assert (project.replace_numbers, project.swap_selectors) == ([], [])


def test_list_shows_every_project(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke("project", "list")
    assert result.exit_code == 0, result.output
    assert world.ours.project.public_key in result.stdout
    assert "Other Clinic" in result.stdout
