"""Counts for reports: calls, leads and visits of one project and period, filtered.

Every report reads its figures through `call_rows`, `lead_rows` and `visit_rows`, which
return rollup-shaped rows (domain/reports/rollup.py) already filtered to the period and the
report filters. Callers regroup them with `regroup`.

Where the figures come from (docs/reports.md, "How reports stay fast: rollups"):
- calls and leads: a local day is read from `call_rollups` / `lead_rollups` when it is in
  `rollup_days` (built) and not in `rollup_dirty` (stale); every other day of the period
  (stale, never built, today before the job ran) is folded from the raw rows with the same
  domain fold, so both paths give identical rows. A tag filter cannot be answered from
  rollups (tags are no rollup column): with one, the whole period is read raw;
- visits: a day in `visit_rollup_days` is read from `visit_rollups`, any other from `visits`.
`raw=True` forces the raw path (tests and the benchmark compare the two).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.counts import MEASURES, CallCounts
from ringtrail.domain.reports.facts import NOT_SET, CallFact, LeadFact
from ringtrail.domain.reports.periods import Period, day_start, local_day
from ringtrail.domain.reports.rollup import (
    Dimension,
    LeadKey,
    RollupKey,
    VisitKey,
    fold_calls,
    fold_leads,
)
from ringtrail.storage.models import (
    Call,
    CallRollup,
    CallTag,
    Lead,
    LeadRollup,
    Project,
    RollupDay,
    RollupDirty,
    Tag,
    Visit,
    VisitRollup,
    VisitRollupDay,
)

K = TypeVar("K", bound=Hashable)
MAX_VALUE_LENGTH = 300
"""Dimension values longer than this (landing pages) are cut, so rollup keys stay indexable."""


@dataclass(frozen=True)
class ReportFilters:
    """What a report is narrowed to; an empty tuple or None lets everything through."""

    sources: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    first_time: bool | None = None

    @property
    def is_empty(self) -> bool:
        """Whether nothing is filtered."""
        return not (self.sources or self.campaigns or self.statuses or self.tags) and (
            self.first_time is None
        )


@dataclass(frozen=True)
class ReportScope:
    """One project, one period in its time zone, and the filters."""

    project_id: int
    zone: ZoneInfo
    period: Period
    filters: ReportFilters = ReportFilters()

    @classmethod
    def of(
        cls, project: Project, period: Period, filters: ReportFilters | None = None
    ) -> ReportScope:
        """The scope of `project` over `period`."""
        return cls(project.id, ZoneInfo(project.timezone), period, filters or ReportFilters())

    def with_period(self, period: Period) -> ReportScope:
        """The same project and filters over another period (the comparison period)."""
        return ReportScope(self.project_id, self.zone, period, self.filters)


def text(value: str | None) -> str:
    """A dimension value as rollups keep it: never None, never longer than the limit."""
    return (value or NOT_SET)[:MAX_VALUE_LENGTH]


def _visitor_region(snapshot: Mapping[str, Any] | None) -> str:
    geo = (snapshot or {}).get("visitor_geo") or {}
    return text(geo.get("region") if isinstance(geo, dict) else None)


def day_ranges(days: Iterable[date], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The UTC instants [from, to) that local `days` cover, consecutive days merged."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day - timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return [(day_start(a, zone), day_start(b + timedelta(days=1), zone)) for a, b in ranges]


def _within(column: Any, ranges: Sequence[tuple[datetime, datetime]]) -> ColumnElement[bool]:
    if not ranges:
        return false()
    return or_(*(and_(column >= start, column < end) for start, end in ranges))


def _call_conditions(
    scope: ReportScope, days: Iterable[date] | None = None
) -> list[ColumnElement[bool]]:
    filters = scope.filters
    if days is None:
        start, end = scope.period.utc_bounds(scope.zone)
        when = and_(Call.started_at >= start, Call.started_at < end)
    else:
        when = _within(Call.started_at, day_ranges(days, scope.zone))
    conditions = [Call.project_id == scope.project_id, when]
    if filters.sources:
        conditions.append(func.coalesce(Call.source, "").in_(filters.sources))
    if filters.campaigns:
        conditions.append(func.coalesce(Call.campaign, "").in_(filters.campaigns))
    if filters.statuses:
        conditions.append(Call.status.in_(filters.statuses))
    if filters.first_time is not None:
        conditions.append(func.coalesce(Call.is_first_time, False).is_(filters.first_time))
    if filters.tags:
        tagged = (
            select(CallTag.call_id)
            .join(Tag, Tag.id == CallTag.tag_id)
            .where(Tag.project_id == scope.project_id, Tag.name.in_(filters.tags))
        )
        conditions.append(Call.id.in_(tagged))
    return conditions


def call_facts(
    db: Session,
    scope: ReportScope,
    *,
    with_snapshot: bool = False,
    days: Iterable[date] | None = None,
) -> list[CallFact]:
    """The calls of the scope as facts (raw rows; use `call_rows` for counts).

    With `days`, only the calls of those local days of the scope (the period is then not
    looked at).
    """
    columns = [
        Call.id, Call.started_at, Call.answered_at, Call.status, Call.talk_seconds,
        Call.is_first_time, Call.is_unique, Call.is_target, Call.attribution_kind,
        Call.source, Call.medium, Call.campaign, Call.keyword, Call.landing_page,
        Call.caller_region,
    ]  # fmt: skip
    if with_snapshot:
        columns.append(Call.snapshot)
    facts = []
    for row in db.execute(select(*columns).where(*_call_conditions(scope, days))):
        facts.append(
            CallFact(
                call_id=row.id,
                started_at=row.started_at,
                answered_at=row.answered_at,
                status=row.status,
                talk_seconds=row.talk_seconds,
                is_first_time=row.is_first_time,
                is_unique=row.is_unique,
                is_target=row.is_target,
                attribution_kind=row.attribution_kind,
                source=text(row.source),
                medium=text(row.medium),
                campaign=text(row.campaign),
                keyword=text(row.keyword),
                landing_page=text(row.landing_page),
                caller_region=text(row.caller_region),
                visitor_region=_visitor_region(row.snapshot) if with_snapshot else NOT_SET,
            )
        )
    return facts


def rolled_up_days(db: Session, project_id: int, period: Period) -> set[date]:
    """The days of `period` whose call and lead rollups are built and not stale."""
    built = db.scalars(
        select(RollupDay.day).where(
            RollupDay.project_id == project_id,
            RollupDay.day >= period.start,
            RollupDay.day <= period.end,
        )
    )
    dirty = db.scalars(
        select(RollupDirty.day).where(
            RollupDirty.project_id == project_id,
            RollupDirty.day >= period.start,
            RollupDirty.day <= period.end,
        )
    )
    return set(built) - set(dirty)


def _raw_call_rows(
    db: Session, scope: ReportScope, dimension: Dimension, days: Iterable[date] | None
) -> dict[RollupKey, CallCounts]:
    facts = call_facts(db, scope, with_snapshot=dimension is Dimension.VISITOR_REGION, days=days)
    return fold_calls(facts, scope.zone, dimensions=(dimension,))


def call_rows(
    db: Session, scope: ReportScope, dimension: Dimension = Dimension.TOTAL, *, raw: bool = False
) -> dict[RollupKey, CallCounts]:
    """The scope's calls counted by local day, `dimension` value and the filter columns.

    Rolled-up days come from `call_rollups`, the others are folded from raw calls; a tag
    filter, or `raw=True`, reads the whole period raw. Both paths give the same rows.
    """
    if raw or scope.filters.tags:
        return _raw_call_rows(db, scope, dimension, None)
    period = scope.period
    rolled = rolled_up_days(db, scope.project_id, period)
    rows: dict[RollupKey, CallCounts] = {}
    if rolled:
        filters = scope.filters
        query = select(
            CallRollup.day, CallRollup.value, CallRollup.source, CallRollup.campaign,
            CallRollup.status, CallRollup.is_first_time,
            *(getattr(CallRollup, name) for name in MEASURES),
        ).where(
            CallRollup.project_id == scope.project_id,
            CallRollup.dimension == dimension.value,
            CallRollup.day >= min(rolled),
            CallRollup.day <= max(rolled),
        )  # fmt: skip
        if filters.sources:
            query = query.where(CallRollup.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(CallRollup.campaign.in_(filters.campaigns))
        if filters.statuses:
            query = query.where(CallRollup.status.in_(filters.statuses))
        if filters.first_time is not None:
            query = query.where(CallRollup.is_first_time.is_(filters.first_time))
        for row in db.execute(query):
            # A day rebuilt since `rolled` was read is not in it and is read raw below,
            # so it is never counted twice.
            if row.day not in rolled:
                continue
            key = RollupKey(
                row.day, dimension.value, row.value, row.source, row.campaign, row.status,
                bool(row.is_first_time),
            )  # fmt: skip
            rows[key] = CallCounts(*(row[6 + index] for index in range(len(MEASURES))))
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        rows.update(_raw_call_rows(db, scope, dimension, missing))
    return rows


def target_flag(is_target: bool | None) -> str:
    """How `lead_rollups.target` keeps a lead's target flag: "y", "n", or "" (unjudged)."""
    return "" if is_target is None else ("y" if is_target else "n")


def _target_of(flag: str) -> bool | None:
    return None if flag == "" else flag == "y"


def raw_lead_rows(
    db: Session, scope: ReportScope, days: Iterable[date] | None = None
) -> dict[LeadKey, int]:
    """`lead_rows` folded from the raw leads (of `days` only, when given)."""
    filters = scope.filters
    if days is None:
        start, end = scope.period.utc_bounds(scope.zone)
        when = and_(Lead.created_at >= start, Lead.created_at < end)
    else:
        when = _within(Lead.created_at, day_ranges(days, scope.zone))
    query = select(
        Lead.id, Lead.created_at, Lead.kind, Lead.source, Lead.campaign, Lead.is_target
    ).where(Lead.project_id == scope.project_id, when)
    if filters.sources:
        query = query.where(func.coalesce(Lead.source, "").in_(filters.sources))
    if filters.campaigns:
        query = query.where(func.coalesce(Lead.campaign, "").in_(filters.campaigns))
    facts = [
        LeadFact(
            row.id, row.created_at, row.kind, text(row.source), text(row.campaign), row.is_target
        )
        for row in db.execute(query)
    ]
    return fold_leads(facts, scope.zone)


def lead_rows(db: Session, scope: ReportScope, *, raw: bool = False) -> dict[LeadKey, int]:
    """The scope's leads of every kind, by local day, kind, source, campaign and target flag.

    Source and campaign filters apply; call-only filters (status, first-time, tags) apply to
    call leads only through their call. Rolled-up days come from `lead_rollups`.
    """
    if raw:
        return raw_lead_rows(db, scope)
    period = scope.period
    rolled = rolled_up_days(db, scope.project_id, period)
    rows: dict[LeadKey, int] = {}
    if rolled:
        filters = scope.filters
        query = select(
            LeadRollup.day, LeadRollup.kind, LeadRollup.source, LeadRollup.campaign,
            LeadRollup.target, LeadRollup.leads,
        ).where(
            LeadRollup.project_id == scope.project_id,
            LeadRollup.day >= min(rolled),
            LeadRollup.day <= max(rolled),
        )  # fmt: skip
        if filters.sources:
            query = query.where(LeadRollup.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(LeadRollup.campaign.in_(filters.campaigns))
        for row in db.execute(query):
            if row.day in rolled:
                key = LeadKey(row.day, row.kind, row.source, row.campaign, _target_of(row.target))
                rows[key] = row.leads
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        rows.update(raw_lead_rows(db, scope, missing))
    return rows


def raw_visit_rows(
    db: Session, scope: ReportScope, days: Iterable[date] | None = None
) -> dict[VisitKey, int]:
    """`visit_rows` counted from the raw visits (of `days` only, when given)."""
    filters = scope.filters
    if days is None:
        start, end = scope.period.utc_bounds(scope.zone)
        when = and_(Visit.started_at >= start, Visit.started_at < end)
    else:
        when = _within(Visit.started_at, day_ranges(days, scope.zone))
    query = select(
        Visit.started_at, Visit.source, Visit.medium, Visit.campaign, Visit.landing_path
    ).where(Visit.project_id == scope.project_id, when, Visit.is_bot.is_(False))
    if filters.sources:
        query = query.where(Visit.source.in_(filters.sources))
    if filters.campaigns:
        query = query.where(func.coalesce(Visit.campaign, "").in_(filters.campaigns))
    rows: dict[VisitKey, int] = {}
    for row in db.execute(query):
        key = VisitKey(
            local_day(row.started_at, scope.zone),
            text(row.source),
            text(row.medium),
            text(row.campaign),
            text(row.landing_path),
        )
        rows[key] = rows.get(key, 0) + 1
    return rows


def visit_rows(db: Session, scope: ReportScope, *, raw: bool = False) -> dict[VisitKey, int]:
    """The scope's visits (bots left out) by local day, source, medium, campaign, landing page.

    Only the source and campaign filters apply to visits. Past days rolled up by the job
    come from `visit_rollups`, the others (today at least) from the raw visits.
    """
    if raw:
        return raw_visit_rows(db, scope)
    period = scope.period
    rolled = set(
        db.scalars(
            select(VisitRollupDay.day).where(
                VisitRollupDay.project_id == scope.project_id,
                VisitRollupDay.day >= period.start,
                VisitRollupDay.day <= period.end,
            )
        )
    )
    rows: dict[VisitKey, int] = {}
    if rolled:
        filters = scope.filters
        query = select(
            VisitRollup.day, VisitRollup.source, VisitRollup.medium, VisitRollup.campaign,
            VisitRollup.landing_page, VisitRollup.visits,
        ).where(
            VisitRollup.project_id == scope.project_id,
            VisitRollup.day >= min(rolled),
            VisitRollup.day <= max(rolled),
        )  # fmt: skip
        if filters.sources:
            query = query.where(VisitRollup.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(VisitRollup.campaign.in_(filters.campaigns))
        for row in db.execute(query):
            if row.day in rolled:
                key = VisitKey(row.day, row.source, row.medium, row.campaign, row.landing_page)
                rows[key] = row.visits
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        rows.update(raw_visit_rows(db, scope, missing))
    return rows


def regroup(rows: Mapping[Any, CallCounts], by: Callable[[Any], K]) -> dict[K, CallCounts]:
    """Call counts summed by `by(key)`."""
    grouped: dict[K, CallCounts] = {}
    for key, counts in rows.items():
        group = by(key)
        previous = grouped.get(group)
        grouped[group] = counts if previous is None else previous + counts
    return grouped


def sum_by(rows: Mapping[Any, int], by: Callable[[Any], K]) -> dict[K, int]:
    """Integer counts (leads, visits) summed by `by(key)`."""
    grouped: dict[K, int] = {}
    for key, count in rows.items():
        group = by(key)
        grouped[group] = grouped.get(group, 0) + count
    return grouped


def total(rows: Iterable[CallCounts]) -> CallCounts:
    """All counts added up."""
    return CallCounts.total(tuple(rows))
