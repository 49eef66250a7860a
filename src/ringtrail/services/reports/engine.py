"""Counts for reports: calls, leads and visits of one project and period, filtered.

Every report reads its figures through `call_rows`, `lead_rows` and `visit_rows`, which
return rollup-shaped rows (domain/reports/rollup.py) already filtered to the period and the
report filters. Callers regroup them with `regroup`, and pass `keep`: the key fields their
regrouping reads (("day",), ("value",), ("source", "campaign")...). The rollup part is then
summed by those columns in SQL (`SELECT kept, SUM(...) ... GROUP BY kept`), so a report gets
a handful of rows, not one per rollup row; the raw part is folded as usual and collapsed to
the same fields. A field not kept is set to its neutral value in the returned keys (`NEUTRAL`:
`date.min` for the day, False for first-time, None for the target flag, "" for text), so a
`regroup` that reads kept fields only gives the same groups whatever `keep` is.

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
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar, cast
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
V = TypeVar("V", CallCounts, int)
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


CallField = Literal["day", "value", "source", "campaign", "status", "first_time"]
LeadField = Literal["day", "kind", "source", "campaign", "is_target"]
VisitField = Literal["day", "source", "medium", "campaign", "landing_page"]
CALL_FIELDS: tuple[CallField, ...] = ("day", "value", "source", "campaign", "status", "first_time")
"""The key fields of `call_rows` (RollupKey less `dimension`, which is always the one asked)."""
LEAD_FIELDS: tuple[LeadField, ...] = ("day", "kind", "source", "campaign", "is_target")
VISIT_FIELDS: tuple[VisitField, ...] = ("day", "source", "medium", "campaign", "landing_page")
NEUTRAL: dict[str, Any] = {"day": date.min, "first_time": False, "is_target": None}
"""What a key field not kept is set to: these, and "" for every text field."""
_CALL_COLUMNS: dict[str, Any] = {
    "day": CallRollup.day,
    "value": CallRollup.value,
    "source": CallRollup.source,
    "campaign": CallRollup.campaign,
    "status": CallRollup.status,
    "first_time": CallRollup.is_first_time,
}
_LEAD_COLUMNS: dict[str, Any] = {
    "day": LeadRollup.day,
    "kind": LeadRollup.kind,
    "source": LeadRollup.source,
    "campaign": LeadRollup.campaign,
    "is_target": LeadRollup.target,
}
_VISIT_COLUMNS: dict[str, Any] = {
    "day": VisitRollup.day,
    "source": VisitRollup.source,
    "medium": VisitRollup.medium,
    "campaign": VisitRollup.campaign,
    "landing_page": VisitRollup.landing_page,
}


def _check(keep: Sequence[str], allowed: Sequence[str]) -> None:
    unknown = [name for name in keep if name not in allowed]
    if unknown:
        raise ValueError(f"unknown key fields {unknown}; use some of {list(allowed)}")


def _blank(key_type: type, keep: Sequence[str], **fixed: Any) -> dict[str, Any]:
    """The neutral values of `key_type`'s fields that are not kept (nor in `fixed`)."""
    blank = {
        field.name: NEUTRAL.get(field.name, "")
        for field in fields(key_type)
        if field.name not in keep and field.name not in fixed
    }
    return blank | fixed


def _merge(rows: dict[K, V], more: Mapping[K, V]) -> None:
    """Add `more` into `rows`, summing the keys both have."""
    for key, value in more.items():
        previous = rows.get(key)
        rows[key] = value if previous is None else previous + value


def collapse(rows: Mapping[K, V], keep: Sequence[str]) -> dict[K, V]:
    """`rows` summed over the key fields not in `keep`, which are set to their neutral value.

    A RollupKey keeps its `dimension` whatever `keep` says.
    """
    if not rows:
        return {}
    blank = {
        name: value
        for name, value in _blank(type(next(iter(rows))), keep).items()
        if name != "dimension"
    }
    if not blank:
        return dict(rows)
    result: dict[K, V] = {}
    for key, value in rows.items():
        narrow = replace(cast(Any, key), **blank)
        previous = result.get(narrow)
        result[narrow] = value if previous is None else previous + value
    return result


def _rolled_days(column: Any, rolled: set[date]) -> ColumnElement[bool]:
    """`column` among the built days `rolled`: their span less the span's days not built.

    `rolled` was read by an earlier statement. A day rebuilt since is not in it and the
    caller folds it from the raw rows, so it must not be summed from the rollups as well (it
    would count twice): the span's other days are excluded by name. They are few (today, the
    stale days), so the condition stays a range scan of the primary key plus a short filter.
    """
    first, last = min(rolled), max(rolled)
    gaps = [day for day in Period(first, last).dates() if day not in rolled]
    within = and_(column >= first, column <= last)
    return and_(within, column.not_in(gaps)) if gaps else within


def call_conditions(
    scope: ReportScope, days: Iterable[date] | None = None
) -> list[ColumnElement[bool]]:
    """The SQL conditions selecting the scope's calls (project, period or `days`, filters)."""
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
    for row in db.execute(select(*columns).where(*call_conditions(scope, days))):
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
    db: Session,
    scope: ReportScope,
    dimension: Dimension,
    days: Iterable[date] | None,
    keep: Sequence[str],
) -> dict[RollupKey, CallCounts]:
    facts = call_facts(db, scope, with_snapshot=dimension is Dimension.VISITOR_REGION, days=days)
    return collapse(fold_calls(facts, scope.zone, dimensions=(dimension,)), keep)


def call_rows(
    db: Session,
    scope: ReportScope,
    dimension: Dimension = Dimension.TOTAL,
    *,
    keep: tuple[CallField, ...] = CALL_FIELDS,
    raw: bool = False,
) -> dict[RollupKey, CallCounts]:
    """The scope's calls counted by local day, `dimension` value and the filter columns.

    `keep` names the key fields to group by (all by default); the others are summed over and
    set to their neutral value in the returned keys (`NEUTRAL`), so built days come back from
    SQL already grouped. Rolled-up days come from `call_rollups`, the others are folded from
    raw calls; a tag filter, or `raw=True`, reads the whole period raw. Both paths give the
    same rows.
    """
    _check(keep, CALL_FIELDS)
    if raw or scope.filters.tags:
        return _raw_call_rows(db, scope, dimension, None, keep)
    period = scope.period
    rolled = rolled_up_days(db, scope.project_id, period)
    rows: dict[RollupKey, CallCounts] = {}
    if rolled:
        filters = scope.filters
        kept = [_CALL_COLUMNS[name] for name in keep]
        query = select(*kept, *(func.sum(getattr(CallRollup, name)) for name in MEASURES)).where(
            CallRollup.project_id == scope.project_id,
            CallRollup.dimension == dimension.value,
            _rolled_days(CallRollup.day, rolled),
        )
        if filters.sources:
            query = query.where(CallRollup.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(CallRollup.campaign.in_(filters.campaigns))
        if filters.statuses:
            query = query.where(CallRollup.status.in_(filters.statuses))
        if filters.first_time is not None:
            query = query.where(CallRollup.is_first_time.is_(filters.first_time))
        if kept:
            query = query.group_by(*kept)
        blank = _blank(RollupKey, keep, dimension=dimension.value)
        width = len(keep)
        for row in db.execute(query):
            if row[width] is None:  # no group: the sums of no rows
                continue
            values = dict(zip(keep, row[:width], strict=True))
            if "first_time" in values:
                values["first_time"] = bool(values["first_time"])
            key = RollupKey(**(blank | values))
            rows[key] = CallCounts(*(int(row[width + i]) for i in range(len(MEASURES))))
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        _merge(rows, _raw_call_rows(db, scope, dimension, missing, keep))
    return rows


def target_flag(is_target: bool | None) -> str:
    """How `lead_rollups.target` keeps a lead's target flag: "y", "n", or "" (unjudged)."""
    return "" if is_target is None else ("y" if is_target else "n")


def _target_of(flag: str) -> bool | None:
    return None if flag == "" else flag == "y"


def raw_lead_rows(
    db: Session,
    scope: ReportScope,
    days: Iterable[date] | None = None,
    *,
    keep: tuple[LeadField, ...] = LEAD_FIELDS,
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
    return collapse(fold_leads(facts, scope.zone), keep)


def lead_rows(
    db: Session,
    scope: ReportScope,
    *,
    keep: tuple[LeadField, ...] = LEAD_FIELDS,
    raw: bool = False,
) -> dict[LeadKey, int]:
    """The scope's leads of every kind, by local day, kind, source, campaign and target flag.

    `keep` names the key fields to group by, as for `call_rows`. Source and campaign filters
    apply; call-only filters (status, first-time, tags) apply to call leads only through
    their call. Rolled-up days come from `lead_rollups`.
    """
    _check(keep, LEAD_FIELDS)
    if raw:
        return raw_lead_rows(db, scope, keep=keep)
    period = scope.period
    rolled = rolled_up_days(db, scope.project_id, period)
    rows: dict[LeadKey, int] = {}
    if rolled:
        filters = scope.filters
        kept = [_LEAD_COLUMNS[name] for name in keep]
        query = select(*kept, func.sum(LeadRollup.leads)).where(
            LeadRollup.project_id == scope.project_id, _rolled_days(LeadRollup.day, rolled)
        )
        if filters.sources:
            query = query.where(LeadRollup.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(LeadRollup.campaign.in_(filters.campaigns))
        if kept:
            query = query.group_by(*kept)
        blank = _blank(LeadKey, keep)
        width = len(keep)
        for row in db.execute(query):
            if row[width] is None:  # no group: the sum of no rows
                continue
            values = dict(zip(keep, row[:width], strict=True))
            if "is_target" in values:
                values["is_target"] = _target_of(values["is_target"])
            rows[LeadKey(**(blank | values))] = int(row[width])
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        _merge(rows, raw_lead_rows(db, scope, missing, keep=keep))
    return rows


def raw_visit_rows(
    db: Session,
    scope: ReportScope,
    days: Iterable[date] | None = None,
    *,
    keep: tuple[VisitField, ...] = VISIT_FIELDS,
) -> dict[VisitKey, int]:
    """`visit_rows` counted from the raw visits (of `days` only, when given).

    Without the day kept, the visits are counted in SQL by their other kept columns (the
    local day needs the time zone, so with it they are counted here, one row per visit).
    """
    filters = scope.filters
    if days is None:
        start, end = scope.period.utc_bounds(scope.zone)
        when = and_(Visit.started_at >= start, Visit.started_at < end)
    else:
        when = _within(Visit.started_at, day_ranges(days, scope.zone))
    columns: dict[str, Any] = {
        "source": Visit.source,
        "medium": Visit.medium,
        "campaign": Visit.campaign,
        "landing_page": Visit.landing_path,
    }
    conditions = [Visit.project_id == scope.project_id, when, Visit.is_bot.is_(False)]
    if filters.sources:
        conditions.append(Visit.source.in_(filters.sources))
    if filters.campaigns:
        conditions.append(func.coalesce(Visit.campaign, "").in_(filters.campaigns))
    blank = _blank(VisitKey, keep)
    rows: dict[VisitKey, int] = {}
    if "day" in keep:
        names = [name for name in keep if name != "day"]
        query = select(Visit.started_at, *(columns[name] for name in names)).where(*conditions)
        for row in db.execute(query):
            values: dict[str, Any] = {
                name: text(value) for name, value in zip(names, row[1:], strict=True)
            }
            key = VisitKey(**(blank | values | {"day": local_day(row[0], scope.zone)}))
            rows[key] = rows.get(key, 0) + 1
        return rows
    kept = [columns[name] for name in keep]
    query = select(*kept, func.count()).where(*conditions)
    if kept:
        query = query.group_by(*kept)
    for row in db.execute(query):
        if not row[-1]:
            continue
        # Grouped on the stored values, then cut to the rollup length and merged, the way
        # the rollup job counts them (two long paths sharing a prefix add up).
        counted: dict[str, Any] = {
            name: text(value) for name, value in zip(keep, row[:-1], strict=True)
        }
        key = VisitKey(**(blank | counted))
        rows[key] = rows.get(key, 0) + int(row[-1])
    return rows


def visit_rows(
    db: Session,
    scope: ReportScope,
    *,
    keep: tuple[VisitField, ...] = VISIT_FIELDS,
    raw: bool = False,
) -> dict[VisitKey, int]:
    """The scope's visits (bots left out) by local day, source, medium, campaign, landing page.

    `keep` names the key fields to group by, as for `call_rows`. Only the source and
    campaign filters apply to visits. Past days rolled up by the job come from
    `visit_rollups`, the others (today at least) from the raw visits.
    """
    _check(keep, VISIT_FIELDS)
    if raw:
        return raw_visit_rows(db, scope, keep=keep)
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
        kept = [_VISIT_COLUMNS[name] for name in keep]
        query = select(*kept, func.sum(VisitRollup.visits)).where(
            VisitRollup.project_id == scope.project_id, _rolled_days(VisitRollup.day, rolled)
        )
        if filters.sources:
            query = query.where(VisitRollup.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(VisitRollup.campaign.in_(filters.campaigns))
        if kept:
            query = query.group_by(*kept)
        blank = _blank(VisitKey, keep)
        width = len(keep)
        for row in db.execute(query):
            if row[width] is None:  # no group: the sum of no rows
                continue
            values = dict(zip(keep, row[:width], strict=True))
            rows[VisitKey(**(blank | values))] = int(row[width])
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        _merge(rows, raw_visit_rows(db, scope, missing, keep=keep))
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
