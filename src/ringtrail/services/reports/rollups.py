"""Keeping report rollups current: which local days changed, and rebuilding them.

- Writers of calls and leads mark the local days (the project's time zone) they touched as
  stale in `rollup_dirty`, in their own transaction (`mark_calls_changed`, `mark_days`).
- `refresh_dirty` (the rollup job) rebuilds stale days: it folds the day's raw calls and
  leads with the domain folds and credits its won deals under every attribution model
  (services/money/returns.py), replaces the day's `call_rollups` / `lead_rollups` /
  `money_rollups` rows,
  records the day in `rollup_days` (built) and clears the mark unless it was renewed.
- Each built day's call rows are also summed over status, first-time and (but for the
  total) campaign into `call_source_rollups`, in the same transaction.
- Whole past local months are summed from their days into `call_month_rollups`
  (`build_month`). Rebuilding a day of a past month drops the month's built mark in the
  same transaction (reports then read it by day) and the job sums the month again after its
  days; `refresh_months` sums a month once it is over.
- `refresh_visits` rolls up the visits of whole past local days (today stays raw), by landing
  page (`visit_rollups`) and without it (`visit_source_rollups`).
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

from sqlalchemy import (
    Connection,
    String,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringtrail.domain.reports.counts import MEASURES, CallCounts
from ringtrail.domain.reports.periods import Period, day_start, local_day, month_end, month_of
from ringtrail.domain.reports.rollup import Dimension, LeadKey, RollupKey, fold_calls
from ringtrail.services.money.returns import Credits, deal_credits
from ringtrail.services.reports.engine import (
    DAY_DIMENSION,
    ReportScope,
    call_facts,
    raw_lead_rows,
    target_flag,
    text,
)
from ringtrail.storage.db import dialect_of
from ringtrail.storage.models import (
    Call,
    CallMonthRollup,
    CallRollup,
    CallSourceRollup,
    Lead,
    LeadRollup,
    MoneyRollup,
    Project,
    RollupDay,
    RollupDirty,
    RollupMonth,
    Visit,
    VisitRollup,
    VisitRollupDay,
    VisitSourceRollup,
)
from ringtrail.storage.models.base import utcnow

dirty_table = cast(Table, RollupDirty.__table__)
days_table = cast(Table, RollupDay.__table__)
visit_days_table = cast(Table, VisitRollupDay.__table__)
months_table = cast(Table, RollupMonth.__table__)
call_month_rollups = cast(Table, CallMonthRollup.__table__)
call_rollups = cast(Table, CallRollup.__table__)
call_source_rollups = cast(Table, CallSourceRollup.__table__)
lead_rollups = cast(Table, LeadRollup.__table__)
visit_rollups = cast(Table, VisitRollup.__table__)
visit_source_rollups = cast(Table, VisitSourceRollup.__table__)
money_rollups = cast(Table, MoneyRollup.__table__)

REFRESH_LIMIT = 50
"""Stale days one job pass rebuilds at most."""
VISIT_DAYS_LIMIT = 31
"""Past days of visits one job pass rolls up per project at most."""
REBUILD_CHUNK_DAYS = 31
"""Days `rebuild_project` folds per read of the raw calls."""
ALL_DIMENSIONS = [dimension.value for dimension in Dimension]
OTHER_DIMENSIONS = [name for name in ALL_DIMENSIONS if name != Dimension.TOTAL.value]

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
_CLAIM_MONTH = {
    name: dialect.insert(months_table).on_conflict_do_nothing(
        index_elements=["project_id", "month"]
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CLAIM_VISIT_DAY = {
    name: dialect.insert(visit_days_table)
    .on_conflict_do_nothing(index_elements=["project_id", "day"])
    .returning(visit_days_table.c.day)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


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
        db.execute(_MARK[dialect_of(db)], rows)


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


def _money_rollup_rows(project_id: int, credits: Credits) -> list[dict[str, Any]]:
    return [
        {
            "project_id": project_id,
            "model": model,
            "day": day,
            "source": source,
            "campaign": campaign,
            "revenue": revenue,
            "customers": customers,
        }
        for (model, day, (source, campaign)), (revenue, customers) in credits.items()
    ]


def _build_days(db: Session, project_id: int, zone: ZoneInfo, first: date, last: date) -> None:
    """Fold the raw calls, leads and won deals of local days `first`..`last` and store their
    rollups.

    Every day of the range is recorded as built, days without calls included. The caller
    has cleared the days' old rows.
    """
    scope = ReportScope(project_id, zone, Period(first, last))
    calls = fold_calls(call_facts(db, scope, with_visitor_region=True), zone)
    leads = raw_lead_rows(db, scope)
    credits = deal_credits(db, project_id, zone, [scope.period.utc_bounds(zone)])
    if calls:
        db.execute(insert(call_rollups), _call_rollup_rows(project_id, calls))
        _sum_source_rows(db, project_id, first, last)
    if leads:
        db.execute(insert(lead_rollups), _lead_rollup_rows(project_id, leads))
    if credits:
        db.execute(insert(money_rollups), _money_rollup_rows(project_id, credits))
    db.execute(
        _CLAIM_DAY[dialect_of(db)],
        [{"project_id": project_id, "day": day} for day in scope.period.dates()],
    )


def _sum_source_rows(db: Session, project_id: int, first: date, last: date) -> None:
    """Sum the `call_rollups` rows of days `first`..`last` into `call_source_rollups`."""
    sums = [func.sum(getattr(CallRollup, name)) for name in MEASURES]
    total = CallRollup.dimension == Dimension.TOTAL.value
    # (campaign, which rows, group by): only the total keeps the campaign.
    parts: list[tuple[Any, Any, tuple[Any, ...]]] = [
        (literal(""), CallRollup.dimension.in_(OTHER_DIMENSIONS), (CallRollup.dimension,)),
        (CallRollup.campaign, total, (CallRollup.dimension, CallRollup.campaign)),
    ]
    columns = ["project_id", "dimension", "day", "value", "source", "campaign", *MEASURES]
    for campaign, condition, group in parts:
        query = (
            select(
                literal(project_id),
                CallRollup.dimension,
                CallRollup.day,
                CallRollup.value,
                CallRollup.source,
                campaign,
                *sums,
            )
            .where(
                CallRollup.project_id == project_id,
                condition,
                CallRollup.day >= first,
                CallRollup.day <= last,
            )
            .group_by(*group, CallRollup.day, CallRollup.value, CallRollup.source)
        )
        db.execute(insert(call_source_rollups).from_select(columns, query))


def refresh_day(db: Session, stale: DirtyDay, now: datetime | None = None) -> bool:
    """Rebuild one stale day in the session's transaction (the caller commits).

    A day of a month that is over (local time at `now`, default the clock) also drops the
    month's built mark in the same transaction, so reports read that month by day until
    `build_month` sums it again (`refresh_dirty` does, once per month, after its days).

    Returns whether the stale mark was cleared; it stays when the day was marked again since
    `stale` was read.
    """
    project_id, day = stale.project_id, stale.day
    dialect = dialect_of(db)
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
    for model in (CallSourceRollup, LeadRollup, MoneyRollup):
        db.execute(delete(model).where(model.project_id == project_id, model.day == day))
    _build_days(db, project_id, stale.zone, day, day)
    if month_of(day) < month_of(local_day(now or utcnow(), stale.zone)):
        db.execute(
            delete(RollupMonth).where(
                RollupMonth.project_id == project_id, RollupMonth.month == month_of(day)
            )
        )
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


def refresh_dirty(db: Session, limit: int = REFRESH_LIMIT, now: datetime | None = None) -> int:
    """Rebuild up to `limit` stale days, committing after each, then sum again each past
    month they belong to; returns how many days were rebuilt."""
    days = dirty_days(db, limit)
    db.commit()  # end the read: each day is rebuilt in its own short write transaction
    months: set[tuple[int, date]] = set()
    for stale in days:
        refresh_day(db, stale, now)
        db.commit()
        if month_of(stale.day) < month_of(local_day(now or utcnow(), stale.zone)):
            months.add((stale.project_id, month_of(stale.day)))
    for project_id, month in sorted(months):
        build_month(db, project_id, month)
        db.commit()
    return len(days)


def build_month(db: Session, project_id: int, month: date) -> None:
    """Rebuild the month's `call_month_rollups` rows from its days' `call_source_rollups`
    rows and record it as built, in the caller's transaction.

    The month's `rollup_months` row is taken first and locked, so two rebuilds of days of
    the same month take turns here instead of writing colliding rows.
    """
    dialect = dialect_of(db)
    db.execute(_CLAIM_MONTH[dialect], [{"project_id": project_id, "month": month}])
    db.execute(
        select(RollupMonth.month)
        .where(RollupMonth.project_id == project_id, RollupMonth.month == month)
        .with_for_update()
    )
    db.execute(
        delete(CallMonthRollup).where(
            CallMonthRollup.project_id == project_id, CallMonthRollup.month == month
        )
    )
    table = CallSourceRollup
    sums = [func.sum(getattr(table, name)) for name in MEASURES]
    in_month = (table.project_id == project_id, table.day >= month, table.day <= month_end(month))
    # (dimension, value, campaign, which rows, group by): every dimension by value, source
    # and (the total only) campaign, as the day rows keep them; the day "dimension" keeps the
    # daily totals by source.
    parts: list[tuple[Any, Any, Any, Any, tuple[Any, ...]]] = [
        (
            table.dimension,
            table.value,
            table.campaign,
            table.dimension.in_(ALL_DIMENSIONS),
            (table.dimension, table.value, table.campaign),
        ),
        (
            literal(DAY_DIMENSION),
            sql_cast(table.day, String),
            literal(""),
            table.dimension == Dimension.TOTAL.value,
            (table.day,),
        ),
    ]
    columns = ["project_id", "dimension", "month", "value", "source", "campaign", *MEASURES]
    for dimension, value, campaign, condition, group in parts:
        query = (
            select(literal(project_id), dimension, literal(month), value, table.source, campaign)
            .add_columns(*sums)
            .where(*in_month, condition)
            .group_by(*group, table.source)
        )
        db.execute(insert(call_month_rollups).from_select(columns, query))


def _past_months(first: date, today: date) -> list[date]:
    """The months from `first`'s to the one before `today`'s."""
    months = []
    month = month_of(first)
    while month < month_of(today):
        months.append(month)
        month = month_of(month_end(month) + timedelta(days=1))
    return months


def refresh_months(db: Session, now: datetime) -> int:
    """Build the month rollups of every project's past months that have built days but no
    month rows yet (a month just ended), committing as it goes; returns how many.

    The month's days not built yet (days without calls are never marked) are built first,
    from the project's first built day on, so the month rows can serve the whole month. A
    month with stale days is left to `refresh_dirty`, whose rebuild of such a day sums the
    month too.
    """
    done = 0
    for project_id, timezone in db.execute(select(Project.id, Project.timezone)).all():
        zone = ZoneInfo(timezone)
        first = db.scalar(select(func.min(RollupDay.day)).where(RollupDay.project_id == project_id))
        if first is None:
            continue
        built = set(
            db.scalars(select(RollupMonth.month).where(RollupMonth.project_id == project_id))
        )
        for month in _past_months(first, local_day(now, zone)):
            if month in built:
                continue
            days = Period(max(first, month), month_end(month))
            stale = db.scalar(
                select(func.count()).where(
                    RollupDirty.project_id == project_id,
                    RollupDirty.day >= days.start,
                    RollupDirty.day <= days.end,
                )
            )
            if stale:  # rebuilding a stale day of a past month sums its month anyway
                continue
            have = set(
                db.scalars(
                    select(RollupDay.day).where(
                        RollupDay.project_id == project_id,
                        RollupDay.day >= days.start,
                        RollupDay.day <= days.end,
                    )
                )
            )
            for day in days.dates():
                if day not in have:
                    refresh_day(db, DirtyDay(project_id, day, 0, zone), now)
                    db.commit()
            build_month(db, project_id, month)
            db.commit()
            done += 1
    return done


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


def _without_page(counts: dict[tuple[str, ...], int]) -> dict[tuple[str, ...], int]:
    summed: dict[tuple[str, ...], int] = {}
    for (source, medium, campaign, _landing), visits in counts.items():
        key = (source, medium, campaign)
        summed[key] = summed.get(key, 0) + visits
    return summed


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
            _CLAIM_VISIT_DAY[dialect_of(db)], [{"project_id": project_id, "day": day}]
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
                db.execute(
                    insert(visit_source_rollups),
                    [
                        {
                            "project_id": project_id,
                            "day": day,
                            "source": source,
                            "medium": medium,
                            "campaign": campaign,
                            "visits": visits,
                        }
                        for (source, medium, campaign), visits in _without_page(counts).items()
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
    for model in (
        CallSourceRollup,
        CallMonthRollup,
        RollupMonth,
        LeadRollup,
        MoneyRollup,
        RollupDay,
        RollupDirty,
        VisitRollup,
        VisitSourceRollup,
        VisitRollupDay,
    ):
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
    if later) is built, empty days included, then the month rollups of the past months.
    Visits: every whole past day. Calls written meanwhile mark their days stale as usual, so
    nothing is lost.
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
        for month in _past_months(span[0], today):
            build_month(db, project_id, month)
            db.commit()
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
