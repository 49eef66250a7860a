"""`ringtrail number ...` on SQLite and PostgreSQL: the API's number operations, from a shell."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import AuditEntry, TrackingNumber
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def _numbers(db: Session, project_id: int) -> list[TrackingNumber]:
    db.expire_all()
    query = select(TrackingNumber).where(TrackingNumber.project_id == project_id)
    return list(db.scalars(query.order_by(TrackingNumber.id)))


def test_a_number_goes_through_its_whole_life_with_audit_rows(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    added = backend_invoke(
        "number", "add", "--project", project, "(044) 123-45-67", "--label", "Billboard",
        "--source", "billboard", "--medium", "offline",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "+380441234567" in added.stdout
    [number] = _numbers(db, world.ours.project.id)
    assert (number.kind, number.label, number.source, number.medium) == (
        "static", "Billboard", "billboard", "offline",
    )  # fmt: skip
    listed = backend_invoke("number", "list", "--project", project)
    assert "+380441234567" in listed.stdout and "billboard / offline" in listed.stdout
    assert (
        backend_invoke("number", "label", "--project", project, "+380441234567", "Metro").exit_code
        == 0
    )
    assert (
        backend_invoke("number", "deactivate", "--project", project, str(number.id)).exit_code == 0
    )
    [number] = _numbers(db, world.ours.project.id)
    assert (number.label, number.is_active) == ("Metro", False)
    assert backend_invoke("number", "activate", "--project", project, "0441234567").exit_code == 0
    assert _numbers(db, world.ours.project.id)[0].is_active
    removed = backend_invoke("number", "remove", "--project", project, "+380441234567")
    assert removed.exit_code == 0, removed.output
    assert _numbers(db, world.ours.project.id) == []
    actions = list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.project_id == world.ours.project.id, AuditEntry.actor_kind == "cli")
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["number.create"] + ["number.update"] * 3 + ["number.delete"]


def test_a_number_that_is_not_a_phone_number_is_refused_in_one_line(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    result = backend_invoke("number", "add", "--project", project, "12345")
    assert "invalid number" in assert_one_error_line(result, 2)
    assert _numbers(db, world.ours.project.id) == []


def test_a_number_tracked_already_is_a_conflict(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    assert backend_invoke("number", "add", "--project", project, "+380441234567").exit_code == 0
    again = backend_invoke("number", "add", "--project", project, "044 123 45 67")
    assert "already tracked" in assert_one_error_line(again, 1)


def test_another_projects_number_is_not_found(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    theirs = str(world.outsider.project.id)
    assert backend_invoke("number", "add", "--project", theirs, "+380441234567").exit_code == 0
    [number] = _numbers(db, world.outsider.project.id)
    ours = str(world.ours.project.id)
    for ref in (str(number.id), "+380441234567"):
        result = backend_invoke("number", "remove", "--project", ours, ref)
        assert_one_error_line(result, 1)
    assert len(_numbers(db, world.outsider.project.id)) == 1
    missing = backend_invoke("number", "list", "--project", "999999")
    assert "no project with id 999999" in assert_one_error_line(missing, 1)


def test_set_moves_a_number_into_a_pool_and_back(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    backend_invoke("pool", "create", "--project", project, "--name", "Ads")
    backend_invoke("number", "add", "--project", project, "+380441234567", "--source", "x")
    moved = backend_invoke("number", "set", "--project", project, "+380441234567", "--pool", "Ads")
    assert moved.exit_code == 0, moved.output
    [number] = _numbers(db, world.ours.project.id)
    assert (number.kind, number.source) == ("pool", None)
    back = backend_invoke(
        "number", "set", "--project", project, "+380441234567", "--static", "--source", "tv"
    )
    assert back.exit_code == 0, back.output
    [number] = _numbers(db, world.ours.project.id)
    assert (number.kind, number.pool_id, number.source) == ("static", None, "tv")
