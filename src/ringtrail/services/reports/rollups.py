"""Keeping report rollups current: which local days changed, and rebuilding them.

- Writers of calls and leads mark the local days (the project's time zone) they touched as
  stale in `rollup_dirty`, in their own transaction (`mark_calls_changed`, `mark_days`).
- `refresh_dirty` (the rollup job) rebuilds stale days: it folds the day's raw calls and
  leads with the domain folds, replaces the day's `call_rollups` / `lead_rollups` rows,
  records the day in `rollup_days` (built) and clears the mark unless it was renewed.
- `refresh_visits` rolls up the visits of whole past local days (today stays raw).
- `rebuild_project` rebuilds everything of a project (after bulk loads); `forget_rollups`
  drops a project's rollups and marks its days stale (its time zone changed).

The engine (engine.py) serves a day from rollups only when it is built and not stale, so a
report is always as exact as the raw path (docs/reports.md, "How reports stay fast").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.periods import Period, day_start, local_day
from ringtrail.domain.reports.rollup import Dimension, LeadKey, RollupKey, fold_calls
from ringtrail.services.reports.engine import (
    ReportScope,
    call_facts,
    raw_lead_rows,
    target_flag,
    text,
)
from ringtrail.storage.models import (
    Call,
    CallRollup,
    Lead,
    LeadRollup,
    Project,
    RollupDay,
    RollupDirty,
    Visit,
    VisitRollup,
    VisitRollupDay,
)
from ringtrail.storage.models.base import utcnow

dirty_table = cast(Table, RollupDirty.__table__)
days_table = cast(Table, RollupDay.__table__)
visit_days_table = cast(Table, VisitRollupDay.__table__)
call_rollups = cast(Table, CallRollup.__table__)
lead_rollups = cast(Table, LeadRollup.__table__)
visit_rollups = cast(Table, VisitRollup.__table__)

REFRESH_LIMIT = 50
"""Stale days one job pass rebuilds at most."""
VISIT_DAYS_LIMIT = 31
"""Past days of visits one job pass rolls up per project at most."""
REBUILD_CHUNK_DAYS = 31
"""Days `rebuild_project` folds per read of the raw calls."""
ALL_DIMENSIONS = [dimension.value for dimension in Dimension]

Db = Session | Connection
_MARK = {
    name: dialect.insert(dirty_table).on_conflict_do_update(
        index_elements=["project_id", "day"],
        set_={"generation": dirty_table.c.generation + 1},
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CLAIM_DAY = {
    name: dialect.insert(days_table).on_conflict_do_nothing(index_elements=["project_id", "day"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CLAIM_VISIT_DAY = {
    name: dialect.insert(visit_days_table)
    .on_conflict_do_nothing(index_elements=["project_id", "day"])
    .returning(visit_days_table.c.day)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _dialect(db: Db) -> str:
    if isinstance(db, Connection):
        return db.dialect.name
    return db.get_bind().dialect.name


def project_zone(db: Db, project_id: int) -> ZoneInfo:
    """The time zone the project's reports use."""
    name = db.execute(select(Project.timezone).where(Project.id == project_id)).scalar_one()
    return ZoneInfo(name)


def mark_days(db: Db, days: Iterable[tuple[int, date]]) -> None:
    """Mark (project id, local day) pairs stale: a new mark, or `generation` + 1.

    One statement for all pairs, taken in key order so two writers never wait on each other
    in opposite orders. Runs in the caller's transaction.
    """
    rows = [
        {"project_id": project_id, "day": day, "generation": 1}
        for project_id, day in sorted(set(days))
    ]
    if rows:
        db.execute(_MARK[_dialect(db)], rows)


def mark_calls_changed(db: Db, project_id: int, started_ats: Iterable[datetime]) -> None:
    """Note that calls (or leads) of `project_id` starting at these instants have changed.

    The local days they fall on are rebuilt by the rollup job; until then reports read those
    days from the raw tables. Runs in the caller's transaction. A changed lead counts on
    the day of its `created_at`: pass that instant too.
    """
    instants = list(started_ats)
    if not instants:
        return
    zone = project_zone(db, project_id)
    mark_days(db, ((project_id, local_day(moment, zone)) for moment in instants))


@dataclass(frozen=True)
class DirtyDay:
    """A stale day as read by the job, with the generation its rebuild will clear."""

    project_id: int
    day: date
    generation: int
    zone: ZoneInfo


def dirty_days(db: Session, limit: int = REFRESH_LIMIT) -> list[DirtyDay]:
    """Up to `limit` stale days, the latest first (those are the ones people look at)."""
    rows = db.execute(
        select(RollupDirty.project_id, RollupDirty.day, RollupDirty.generation, Project.timezone)
        .join(Project, Project.id == RollupDirty.project_id)
        .order_by(RollupDirty.day.desc(), RollupDirty.project_id)
        .limit(limit)
    )
    return [DirtyDay(r.project_id, r.day, r.generation, ZoneInfo(r.timezone)) for r in rows]


def _call_rollup_rows(project_id: int, rows: dict[RollupKey, CallCounts]) -> list[dict[str, Any]]:
    return [
        {
            "project_id": project_id,
            "dimension": key.dimension,
            "day": key.day,
            "value": key.value,
            "source": key.source,
            "campaign": key.campaign,
            "status": key.status,
            "is_first_time": key.first_time,
            **counts.as_dict(),
        }
        for key, counts in rows.items()
    ]


def _lead_rollup_rows(project_id: int, rows: dict[LeadKey, int]) -> list[dict[str, Any]]:
    return [
        {
            "project_id": project_id,
            "day": key.day,
            "kind": key.kind,
            "source": key.source,
            "campaign": key.campaign,
            "target": target_flag(key.is_target),
            "leads": leads,
        }
        for key, leads in rows.items()
    ]


def _build_days(db: Session, project_id: int, zone: ZoneInfo, first: date, last: date) -> None:
    """Fold the raw calls and leads of local days `first`..`last` and store their rollups.

    Every day of the range is recorded as built, days without calls included. The caller
    has cleared the days' old rows.
    """
    scope = ReportScope(project_id, zone, Period(first, last))
    calls = fold_calls(call_facts(db, scope, with_snapshot=True), zone)
    leads = raw_lead_rows(db, scope)
    if calls:
        db.execute(insert(call_rollups), _call_rollup_rows(project_id, calls))
    if leads:
        db.execute(insert(lead_rollups), _lead_rollup_rows(project_id, leads))
    db.execute(
        _CLAIM_DAY[_dialect(db)],
        [{"project_id": project_id, "day": day} for day in scope.period.dates()],
    )


def refresh_day(db: Session, stale: DirtyDay) -> bool:
    """Rebuild one stale day in the session's transaction (the caller commits).

    Returns whether the stale mark was cleared; it stays when the day was marked again since
    `stale` was read.
    """
    project_id, day = stale.project_id, stale.day
    dialect = _dialect(db)
    # The built-day row is the day's lock: a second refresher of the same day waits here
    # until the first commits, then rebuilds on top of it instead of inserting rows that
    # collide with the first one's (ingestion never takes this lock).
    db.execute(_CLAIM_DAY[dialect], [{"project_id": project_id, "day": day}])
    db.execute(
        select(RollupDay.day)
        .where(RollupDay.project_id == project_id, RollupDay.day == day)
        .with_for_update()
    )
    db.execute(
        delete(CallRollup).where(
            CallRollup.project_id == project_id,
            CallRollup.dimension.in_(ALL_DIMENSIONS),
            CallRollup.day == day,
        )
    )
    db.execute(delete(LeadRollup).where(LeadRollup.project_id == project_id, LeadRollup.day == day))
    _build_days(db, project_id, stale.zone, day, day)
    # The race this guards against: a call of this day committed after the raw rows above
    # were read is not in the rollups just written, but its writer bumped `generation` when
    # it marked the day. Deleting the mark only at the generation read before the rebuild
    # leaves such a day stale (served raw, rebuilt on the next pass) instead of wrongly
    # clean. A writer still uncommitted when this DELETE runs holds the mark's row lock, so
    # the DELETE waits and then sees the bumped generation; one that marks after it inserts
    # a fresh mark.
    result = db.execute(
        delete(RollupDirty).where(
            RollupDirty.project_id == project_id,
            RollupDirty.day == day,
            RollupDirty.generation == stale.generation,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def refresh_dirty(db: Session, limit: int = REFRESH_LIMIT) -> int:
    """Rebuild up to `limit` stale days, committing after each; returns how many were rebuilt."""
    days = dirty_days(db, limit)
    db.commit()  # end the read: each day is rebuilt in its own short write transaction
    for stale in days:
        refresh_day(db, stale)
        db.commit()
    return len(days)


def _visit_counts(
    db: Session, project_id: int, day: date, zone: ZoneInfo
) -> dict[tuple[str, ...], int]:
    start, end = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    campaign = func.coalesce(Visit.campaign, "")
    rows = db.execute(
        select(Visit.source, Visit.medium, campaign, Visit.landing_path, func.count())
        .where(
            Visit.project_id == project_id,
            Visit.started_at >= start,
            Visit.started_at < end,
            Visit.is_bot.is_(False),
        )
        .group_by(Visit.source, Visit.medium, campaign, Visit.landing_path)
    )
    counts: dict[tuple[str, ...], int] = {}
    for source, medium, campaign_value, landing, visits in rows:
        # Values are cut to the rollup length after grouping, so two long landing pages
        # sharing a prefix add up the way the raw path counts them.
        key = (text(source), text(medium), text(campaign_value), text(landing))
        counts[key] = counts.get(key, 0) + int(visits)
    return counts


def refresh_visits(
    db: Session,
    project_id: int,
    before_day: date,
    *,
    zone: ZoneInfo | None = None,
    limit: int = VISIT_DAYS_LIMIT,
) -> int:
    """Roll up the visits of up to `limit` whole local days before `before_day` not rolled
    up yet, committing after each; returns how many days were rolled up.

    Days are rolled up in order from the project's first visit, so `visit_rollup_days` has
    no gaps; visits are written as they happen, so a past day does not change afterwards.
    """
    zone = zone or project_zone(db, project_id)
    last = db.scalar(
        select(func.max(VisitRollupDay.day)).where(VisitRollupDay.project_id == project_id)
    )
    if last is None:
        first_visit = db.scalar(
            select(func.min(Visit.started_at)).where(Visit.project_id == project_id)
        )
        if first_visit is None:
            return 0
        start = local_day(first_visit, zone)
    else:
        start = last + timedelta(days=1)
    done = 0
    day = start
    while day < before_day and done < limit:
        claimed = db.execute(
            _CLAIM_VISIT_DAY[_dialect(db)], [{"project_id": project_id, "day": day}]
        ).all()
        if claimed:  # another refresher got there first otherwise
            counts = _visit_counts(db, project_id, day, zone)
            if counts:
                db.execute(
                    insert(visit_rollups),
                    [
                        {
                            "project_id": project_id,
                            "day": day,
                            "source": source,
                            "medium": medium,
                            "campaign": campaign,
                            "landing_page": landing,
                            "visits": visits,
                        }
                        for (source, medium, campaign, landing), visits in counts.items()
                    ],
                )
        db.commit()
        done += 1
        day += timedelta(days=1)
    return done


def refresh_all_visits(db: Session, now: datetime, limit: int = VISIT_DAYS_LIMIT) -> int:
    """`refresh_visits` of every project up to its local today; returns the days rolled up."""
    projects = db.execute(select(Project.id, Project.timezone)).all()
    done = 0
    for project_id, timezone in projects:
        zone = ZoneInfo(timezone)
        done += refresh_visits(db, project_id, local_day(now, zone), zone=zone, limit=limit)
    return done


def _delete_rollups(db: Session, project_id: int) -> None:
    db.execute(
        delete(CallRollup).where(
            CallRollup.project_id == project_id, CallRollup.dimension.in_(ALL_DIMENSIONS)
        )
    )
    for model in (LeadRollup, RollupDay, RollupDirty, VisitRollup, VisitRollupDay):
        db.execute(delete(model).where(model.project_id == project_id))


def _activity_days(db: Session, project_id: int, zone: ZoneInfo) -> tuple[date, date] | None:
    """The first and last local day with a call or a lead of the project."""
    call_first, call_last = db.execute(
        select(func.min(Call.started_at), func.max(Call.started_at)).where(
            Call.project_id == project_id
        )
    ).one()
    lead_first, lead_last = db.execute(
        select(func.min(Lead.created_at), func.max(Lead.created_at)).where(
            Lead.project_id == project_id
        )
    ).one()
    firsts = [moment for moment in (call_first, lead_first) if moment is not None]
    lasts = [moment for moment in (call_last, lead_last) if moment is not None]
    if not firsts:
        return None
    return local_day(min(firsts), zone), local_day(max(lasts), zone)


def rebuild_project(db: Session, project_id: int, *, now: datetime | None = None) -> None:
    """Drop and rebuild every rollup of the project (after a bulk load), committing as it goes.

    Calls and leads: every local day from the first call or lead to today (or the last one,
    if later) is built, empty days included. Visits: every whole past day. Calls written
    meanwhile mark their days stale as usual, so nothing is lost.
    """
    zone = project_zone(db, project_id)
    today = local_day(now or utcnow(), zone)
    _delete_rollups(db, project_id)
    db.commit()
    span = _activity_days(db, project_id, zone)
    if span is not None:
        first, last = span[0], max(span[1], today)
        while first <= last:
            chunk_end = min(first + timedelta(days=REBUILD_CHUNK_DAYS - 1), last)
            _build_days(db, project_id, zone, first, chunk_end)
            db.commit()
            first = chunk_end + timedelta(days=1)
    while refresh_visits(db, project_id, today, zone=zone):
        pass


def forget_rollups(db: Session, project_id: int) -> None:
    """Drop the project's rollups and mark stale every day from its first call or lead to
    its last, in the caller's transaction.

    Used when the project's time zone changes: every local day moves. Reports read raw
    until the job has rebuilt the days (visits are rolled up again from the first one).
    """
    _delete_rollups(db, project_id)
    zone = project_zone(db, project_id)
    span = _activity_days(db, project_id, zone)
    if span is None:
        return
    first, last = span
    days = []
    day = first
    while day <= last:
        days.append((project_id, day))
        day += timedelta(days=1)
    mark_days(db, days)
