"""Keeping rollups current (SQLite and PostgreSQL): marks, the generation race, rebuilds,
visits of past days, a time zone change and the job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.jobs.report_rollups import refresh_report_rollups
from ringtrail.runtime import Runtime
from ringtrail.services.projects import update_project
from ringtrail.services.reports.engine import ReportScope, call_rows, rolled_up_days, visit_rows
from ringtrail.services.reports.rollups import (
    dirty_days,
    mark_calls_changed,
    rebuild_project,
    refresh_day,
    refresh_dirty,
)
from ringtrail.storage.models import (
    CallRollup,
    LeadRollup,
    RollupDay,
    RollupDirty,
    Visit,
    Visitor,
    VisitRollupDay,
)
from tests.call_rows import add_call
from tests.conftest import World

# Kyiv is UTC+2 in January: 23:30 UTC on the 9th is 01:30 on the 10th there.
DAY = date(2025, 1, 10)
LATE = datetime(2025, 1, 9, 23, 30, tzinfo=UTC)
NOW = datetime(2025, 1, 12, 9, 0, tzinfo=UTC)


def _total_calls(db: Session, project_id: int, day: date) -> int | None:
    return db.scalar(
        select(CallRollup.calls).where(
            CallRollup.project_id == project_id,
            CallRollup.dimension == Dimension.TOTAL.value,
            CallRollup.day == day,
        )
    )


def _dirty(db: Session) -> list[tuple[date, int]]:
    db.expire_all()
    return [
        (row.day, row.generation)
        for row in db.execute(select(RollupDirty.day, RollupDirty.generation))
    ]


def test_a_mark_is_a_local_day_and_each_mark_bumps_its_generation(
    db: Session, world: World
) -> None:
    project = world.ours.project
    mark_calls_changed(db, project.id, [LATE, LATE + timedelta(hours=1)])
    db.commit()
    assert _dirty(db) == [(DAY, 1)]
    mark_calls_changed(db, project.id, [LATE])
    mark_calls_changed(db, project.id, [])
    db.commit()
    assert _dirty(db) == [(DAY, 2)]


def test_a_day_marked_again_during_its_rebuild_stays_stale(db: Session, world: World) -> None:
    project = world.ours.project
    add_call(db, project, started_at=LATE)
    mark_calls_changed(db, project.id, [LATE])
    db.commit()
    (stale,) = dirty_days(db)
    # The job has read the mark (generation 1); before it finishes, a second call of the
    # same day is committed and marks the day again (generation 2).
    add_call(db, project, started_at=LATE + timedelta(minutes=5))
    mark_calls_changed(db, project.id, [LATE + timedelta(minutes=5)])
    db.commit()
    # The rebuild did not see the second call in the simulated race; with the real
    # interleaving it may or may not have: either way the mark must survive.
    assert refresh_day(db, stale) is False
    db.commit()
    assert _dirty(db) == [(DAY, 2)]
    scope = ReportScope.of(project, Period(DAY, DAY))
    assert rolled_up_days(db, project.id, scope.period) == set()  # served raw meanwhile
    assert refresh_dirty(db) == 1
    assert _dirty(db) == []
    assert _total_calls(db, project.id, DAY) == 2
    assert rolled_up_days(db, project.id, scope.period) == {DAY}
    assert call_rows(db, scope) == call_rows(db, scope, raw=True)


def test_a_refreshed_day_without_calls_is_built_and_empty(db: Session, world: World) -> None:
    project = world.ours.project
    mark_calls_changed(db, project.id, [LATE])
    db.commit()
    assert refresh_dirty(db) == 1
    assert db.scalar(select(func.count()).select_from(CallRollup)) == 0
    assert db.scalars(select(RollupDay.day)).all() == [DAY]
    assert call_rows(db, ReportScope.of(project, Period(DAY, DAY))) == {}


def test_rebuild_covers_every_day_and_leaves_other_projects_alone(
    db: Session, world: World
) -> None:
    ours, theirs = world.ours.project, world.outsider.project
    add_call(db, ours, started_at=LATE - timedelta(days=2))
    add_call(db, ours, started_at=LATE)
    add_call(db, theirs, started_at=LATE)
    db.commit()
    rebuild_project(db, theirs.id, now=NOW)
    rebuild_project(db, ours.id, now=NOW)
    rebuild_project(db, ours.id, now=NOW)  # twice: replaces, never doubles
    built = db.scalars(select(RollupDay.day).where(RollupDay.project_id == ours.id)).all()
    assert sorted(built) == [date(2025, 1, 8) + timedelta(days=n) for n in range(5)]
    assert _total_calls(db, ours.id, DAY) == 1
    assert _total_calls(db, theirs.id, DAY) == 1
    scope = ReportScope.of(ours, Period(date(2025, 1, 1), date(2025, 1, 12)))
    for dimension in Dimension:
        assert call_rows(db, scope, dimension) == call_rows(db, scope, dimension, raw=True)


def test_visits_of_past_days_are_rolled_up_and_today_stays_raw(
    db: Session, world: World, runtime: Runtime
) -> None:
    project = world.ours.project
    visitor = Visitor(project_id=project.id, public_id="v", first_seen_at=LATE, last_seen_at=LATE)
    db.add(visitor)
    db.flush()
    for moment in (LATE, LATE + timedelta(days=1), NOW):
        db.add(
            Visit(
                project_id=project.id,
                visitor_id=visitor.id,
                started_at=moment,
                last_seen_at=moment,
                source="google",
                medium="cpc",
                landing_path="/",
            )
        )
    db.commit()
    report = refresh_report_rollups(runtime.sessions, NOW)
    assert report.visit_days == 2  # the 10th and the 11th; the 12th is today in Kyiv
    assert refresh_report_rollups(runtime.sessions, NOW).visit_days == 0
    days = db.scalars(select(VisitRollupDay.day).order_by(VisitRollupDay.day)).all()
    assert days == [DAY, date(2025, 1, 11)]
    scope = ReportScope.of(project, Period(DAY, date(2025, 1, 12)))
    rows = visit_rows(db, scope)
    assert rows == visit_rows(db, scope, raw=True)
    assert sum(rows.values()) == 3


def test_a_time_zone_change_drops_the_rollups_and_marks_the_days(
    db: Session, world: World, runtime: Runtime
) -> None:
    project = world.ours.project
    add_call(db, project, started_at=LATE)
    db.commit()
    rebuild_project(db, project.id, now=NOW)
    assert _total_calls(db, project.id, DAY) == 1
    update_project(db, project, {"timezone": "UTC"})
    db.commit()
    assert db.scalar(select(func.count()).select_from(CallRollup)) == 0
    assert db.scalar(select(func.count()).select_from(LeadRollup)) == 0
    stale = set(db.scalars(select(RollupDirty.day)))
    assert date(2025, 1, 9) in stale  # the call's day in UTC
    scope = ReportScope.of(project, Period(date(2025, 1, 9), date(2025, 1, 9)))
    assert call_rows(db, scope) == call_rows(db, scope, raw=True)
    while refresh_report_rollups(runtime.sessions, NOW, limit=1000).days:
        pass
    assert _total_calls(db, project.id, date(2025, 1, 9)) == 1
    assert _total_calls(db, project.id, DAY) is None
    update_project(db, project, {"name": "Same zone"})
    db.commit()
    assert _total_calls(db, project.id, date(2025, 1, 9)) == 1
