"""The refusal log: counted per (project, reason, detail), bounded in memory and per project,
written within a second without a reader, purged after RETENTION_DAYS."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ringtrail.jobs.retention import enforce_retention
from ringtrail.recordings.factory import make_store
from ringtrail.runtime import Runtime
from ringtrail.services.refusals import (
    RETENTION_DAYS,
    NoNumber,
    RefusalLog,
    list_refusals,
    purge_refusals,
)
from ringtrail.storage.models import TrackingRefusal
from tests.conftest import World

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _rows(db: Session) -> list[TrackingRefusal]:
    db.expire_all()
    return list(db.scalars(select(TrackingRefusal).order_by(TrackingRefusal.id)))


def test_a_refusal_is_written_within_a_second_without_anyone_reading(
    runtime: Runtime, db: Session, world: World
) -> None:
    log = RefusalLog(runtime.engine, flush_seconds=0.2)
    log.note(world.ours.project.id, NoNumber.NO_RULE, "", "https://a.example/", "UA", NOW)
    deadline = time.monotonic() + 5
    while not _rows(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    (row,) = _rows(db)
    assert (row.reason, row.count, row.sample_url) == ("no_rule", 1, "https://a.example/")


def test_memory_holds_a_bounded_number_of_distinct_refusals(
    runtime: Runtime, db: Session, world: World
) -> None:
    log = RefusalLog(runtime.engine, flush_seconds=60, max_pending=3)
    project_id = world.ours.project.id
    for i in range(10):
        log.note(project_id, NoNumber.ORIGIN_NOT_ALLOWED, f"http://h{i}", "u", "a", NOW)
    log.note(project_id, NoNumber.ORIGIN_NOT_ALLOWED, "http://h0", "u", "a", NOW)
    assert log.dropped == 7
    log.close()
    assert {(r.detail, r.count) for r in _rows(db)} == {
        ("http://h0", 2),
        ("http://h1", 1),
        ("http://h2", 1),
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    notes=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "f"]), st.integers(0, 100)),
        min_size=1,
        max_size=30,
    ),
    batch=st.integers(1, 10),
)
def test_a_project_never_holds_more_rows_than_the_cap_and_keeps_the_latest(
    runtime: Runtime, db: Session, world: World, notes: list[tuple[str, int]], batch: int
) -> None:
    with runtime.engine.begin() as connection:
        connection.execute(delete(TrackingRefusal.__table__))
    cap = 3
    log = RefusalLog(runtime.engine, flush_seconds=60, max_rows=cap)
    project_id = world.ours.project.id
    seen: dict[str, int] = {}
    for i, (origin, minutes) in enumerate(notes):
        at = NOW + timedelta(minutes=i * 100 + minutes)
        log.note(project_id, NoNumber.ORIGIN_NOT_ALLOWED, origin, "u", "a", at)
        seen[origin] = i
        if i % batch == 0:
            log.flush()
    log.close()
    rows = _rows(db)
    assert len(rows) <= cap
    assert len({r.detail for r in rows}) == len(rows)
    # The most recently seen refusal is always kept, and no count exceeds what was noted.
    assert notes[-1][0] in {r.detail for r in rows}
    noted = {o: sum(1 for n, _ in notes if n == o) for o in seen}
    assert all(1 <= r.count <= noted[r.detail] for r in rows)


def test_old_refusals_are_purged_and_recent_ones_kept(
    runtime: Runtime, db: Session, world: World
) -> None:
    log = RefusalLog(runtime.engine)
    project_id = world.ours.project.id
    old = NOW - timedelta(days=RETENTION_DAYS + 1)
    log.note(project_id, NoNumber.BOT, "crawler", "u", "a", old)
    log.note(project_id, NoNumber.NO_RULE, "", "u", "a", NOW)
    log.close()
    assert purge_refusals(runtime.engine, NOW) == 1
    assert [r.reason for r in list_refusals(db, project_id)] == ["no_rule"]


def test_the_retention_job_purges_old_refusals(runtime: Runtime, db: Session, world: World) -> None:
    log = RefusalLog(runtime.engine)
    log.note(world.ours.project.id, NoNumber.BOT, "crawler", "u", "a", NOW - timedelta(days=31))
    log.close()
    report = enforce_retention(runtime.engine, make_store(runtime.settings), NOW)
    assert report.refusals == 1 and _rows(db) == []
