"""Tracking numbers as a use case: uniqueness under a race, and what removal leaves behind."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.services.pools import create_pool
from ringtrail.services.source_rules import add_rule
from ringtrail.services.tracking import add_number, change_number, get_number, remove_number
from ringtrail.storage.models import Project, SourceRule, TrackingNumber
from tests.conftest import make_tenant


@pytest.fixture
def project(db: Session) -> Project:
    tenant = make_tenant(db, "Acme Realty")
    db.commit()
    return tenant.project


def test_a_number_is_never_tracked_twice_under_a_race(runtime: Runtime, project: Project) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        with runtime.sessions() as session:
            mine = session.get(Project, project.id)
            assert mine is not None
            start.wait()
            try:
                add_number(session, mine, {"number": "044 123 45 67"})
                session.commit()
                outcomes.append("added")
            except Conflict:
                outcomes.append("conflict")
            except OperationalError:  # SQLite's single writer refuses a stale snapshot
                assert runtime.engine.dialect.name == "sqlite"
                outcomes.append("busy")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("added") == 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(TrackingNumber.id))) == 1


def test_a_number_of_another_project_is_not_found(db: Session, project: Project) -> None:
    other = make_tenant(db, "Other Clinic").project
    number = add_number(db, other, {"number": "044 123 45 67"})
    with pytest.raises(NotFound):
        get_number(db, project, number.id)
    with pytest.raises(NotFound):
        remove_number(db, project, number.id)


def test_removing_a_static_number_leaves_its_rule_without_a_target(
    db: Session, project: Project
) -> None:
    number = add_number(db, project, {"number": "044 123 45 67", "source": "flyer"})
    rule = add_rule(
        db, project, {"name": "flyer", "source": "flyer", "static_number_id": number.id}
    )
    db.commit()
    remove_number(db, project, number.id)
    db.commit()
    db.expire_all()
    kept = db.get(SourceRule, rule.id)
    assert kept is not None and kept.static_number_id is None


def test_moving_the_default_number_into_a_pool_with_a_default_is_a_conflict(
    db: Session, project: Project
) -> None:
    first = create_pool(
        db, project, {"name": "A"}, numbers=["044 123 45 61"], default_number="044 123 45 61"
    )
    second = create_pool(
        db, project, {"name": "B"}, numbers=["044 123 45 62"], default_number="044 123 45 62"
    )
    moving = db.scalar(select(TrackingNumber).where(TrackingNumber.pool_id == second.id))
    assert moving is not None
    with pytest.raises(Conflict):
        change_number(db, project, moving, {"pool_id": first.id})


def test_unknown_fields_are_refused_by_name(db: Session, project: Project) -> None:
    with pytest.raises(InvalidInput) as caught:
        add_number(db, project, {"number": "044 123 45 67", "e164": "+380441234567"})
    assert caught.value.field == "e164"
