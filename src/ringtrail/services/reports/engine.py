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
  `rollup_days` (built) and not in `rollup_dirty` (stale); a report that neither filters nor
  groups by status, first-time or (but for the total) campaign reads such days from the
  narrower `call_source_rollups`, and whole past months from `call_month_rollups`; every
  other day of the period (stale, never built, today before the job ran) is folded from the
  raw rows with the same domain fold, so both paths give identical rows. A tag filter
  cannot be answered from rollups (tags are no rollup column): with one, the whole period
  is read raw;
- visits: a day in `visit_rollup_days` is read from `visit_rollups` (from
  `visit_source_rollups` when the landing page is not kept), any other from `visits`.
`raw=True` forces the raw path (tests and the benchmark compare the two).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from operator import add
from typing import Any, Literal, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from ringtrail.domain.attribution import kinds_of
from ringtrail.domain.calls import UNANSWERED, CallStatus
from ringtrail.domain.reports.counts import MEASURES, CallCounts, astuple_counts
from ringtrail.domain.reports.facts import (
    DURATION_BUCKETS,
    NOT_ANSWERED_BUCKET,
    NOT_SET,
    CallFact,
    CallOrigin,
    LeadFact,
)
from ringtrail.domain.reports.periods import (
    Period,
    day_start,
    local_day,
    month_end,
    whole_months,
)
from ringtrail.domain.reports.rollup import (
    Dimension,
    LeadKey,
    RollupKey,
    VisitKey,
    fold_calls,
    fold_leads,
)
from ringtrail.storage.db import dialect_of
from ringtrail.storage.models import (
    Call,
    CallMonthRollup,
    CallRollup,
    CallSourceRollup,
    CallTag,
    Lead,
    LeadRollup,
    Project,
    RollupDay,
    RollupDirty,
    RollupMonth,
    Tag,
    Visit,
    VisitRollup,
    VisitRollupDay,
    VisitSourceRollup,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V", CallCounts, int)
MAX_DAY_RUNS = 4
"""Runs of consecutive built days read as separate index ranges (more: one span less gaps)."""
DAY_DIMENSION = "day"
"""The `call_month_rollups` dimension holding a month's daily totals by source (value: the
ISO date)."""
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


def visitor_region_column() -> ColumnElement[Any]:
    """The visitor's region copied onto a call (`snapshot.visitor_geo.region`), as text,
    read by the database (the snapshot itself is never fetched for it)."""
    region: ColumnElement[Any] = Call.snapshot[("visitor_geo", "region")].as_string()
    return region


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


def rolled_days_condition(column: Any, rolled: set[date]) -> ColumnElement[bool]:
    """`column` among the built days `rolled`, as index ranges.

    `rolled` was read by an earlier statement. A day rebuilt since is not in it and the
    caller folds it from the raw rows, so it must not be summed from the rollups as well (it
    would count twice). A few runs of consecutive days (the days around the whole months read
    from month rollups) are one range each; many runs (scattered stale days) are the span
    less the days not in `rolled`, named: they are few, so that stays a range scan of the
    primary key plus a short filter.
    """
    runs: list[tuple[date, date]] = []
    for day in sorted(rolled):
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    if len(runs) <= MAX_DAY_RUNS:
        return or_(*(and_(column >= first, column <= last) for first, last in runs))
    first, last = runs[0][0], runs[-1][1]
    gaps = [day for day in Period(first, last).dates() if day not in rolled]
    return and_(column >= first, column <= last, column.not_in(gaps))


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
    # Outbound rows are the callback widget's calls back (services.callback_calls): reports
    # of calls count the calls customers made; callbacks have their own report.
    conditions = [Call.project_id == scope.project_id, when, Call.direction == "inbound"]
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
    with_visitor_region: bool = False,
    days: Iterable[date] | None = None,
) -> list[CallFact]:
    """The calls of the scope as facts (raw rows; use `call_rows` for counts).

    With `days`, only the calls of those local days of the scope (the period is then not
    looked at).
    """
    columns: list[Any] = [
        Call.id, Call.started_at, Call.answered_at, Call.status, Call.talk_seconds,
        Call.is_first_time, Call.is_unique, Call.is_target, Call.attribution_kind,
        Call.source, Call.medium, Call.campaign, Call.keyword, Call.landing_page,
        Call.caller_region, Call.target_set_by,
    ]  # fmt: skip
    if with_visitor_region:
        columns.append(visitor_region_column())
    facts = []
    # Positional: the raw path folds every call of its days, so this loop is hot.
    rows = db.execute(select(*columns).where(*call_conditions(scope, days)))
    for row in cast(Iterable[tuple[Any, ...]], rows):
        facts.append(
            CallFact(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                text(row[9]),
                text(row[10]),
                text(row[11]),
                text(row[12]),
                text(row[13]),
                text(row[14]),
                text(row[16]) if with_visitor_region else NOT_SET,
                row[15],
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
    with_region = dimension is Dimension.VISITOR_REGION
    facts = call_facts(db, scope, with_visitor_region=with_region, days=days)
    return collapse(fold_calls(facts, scope.zone, dimensions=(dimension,)), keep)


def _cut(column: Any) -> Any:
    """A text column as rollups keep it (`text`): never NULL, at most MAX_VALUE_LENGTH long."""
    return func.substr(func.coalesce(column, NOT_SET), 1, MAX_VALUE_LENGTH)


def _sql_dimension(dimension: Dimension, zone: ZoneInfo) -> Any:
    """`dimension_value` (domain/reports/rollup.py) as a PostgreSQL expression on calls."""
    if dimension is Dimension.TOTAL:
        return literal(NOT_SET)
    if dimension is Dimension.ORIGIN:
        return case(
            *(
                (Call.attribution_kind.in_(kinds_of(origin)), origin.value)
                for origin in (CallOrigin.AD, CallOrigin.SITE)
            ),
            else_=CallOrigin.UNKNOWN.value,
        )
    if dimension is Dimension.HOUR_OF_WEEK:
        local = func.timezone(zone.key, Call.started_at)
        weekday = sql_cast(func.extract("isodow", local) - 1, Integer)
        hour = sql_cast(func.extract("hour", local), Integer)
        return func.concat(weekday, "-", func.lpad(sql_cast(hour, String), 2, "0"))
    if dimension is Dimension.DURATION:
        seconds = func.greatest(func.coalesce(Call.talk_seconds, 0), 0)
        buckets = [(seconds < high, label) for label, _low, high in DURATION_BUCKETS if high]
        return case(
            (Call.status != CallStatus.ANSWERED.value, NOT_ANSWERED_BUCKET),
            *buckets,
            else_=DURATION_BUCKETS[-1][0],
        )
    if dimension is Dimension.VISITOR_REGION:
        return _cut(visitor_region_column())
    return _cut(getattr(Call, dimension.value))


def _sql_measures() -> list[Any]:
    """`CallCounts.values_of` (domain/reports/counts.py) summed by PostgreSQL, in order."""
    answered = Call.status == CallStatus.ANSWERED.value
    wait = case(
        (
            and_(answered, Call.answered_at.is_not(None)),
            func.greatest(
                sql_cast(
                    func.trunc(func.extract("epoch", Call.answered_at - Call.started_at)), Integer
                ),
                0,
            ),
        ),
        else_=None,
    )

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    by_machine = func.coalesce(Call.target_set_by, "user").in_(["rule", "model"])

    return [
        count(Call.id.is_not(None)),  # a sum, so no rows at all gives NULL, as the others do
        count(answered),
        count(Call.status.in_([status.value for status in UNANSWERED])),
        count(Call.is_unique.is_(True)),
        count(Call.is_first_time.is_(True)),
        count(Call.is_unique.is_(False)),
        count(Call.is_target.is_(True)),
        count(Call.is_target.is_(False)),
        count(and_(Call.is_unique.is_(True), Call.is_target.is_(True))),
        count(and_(Call.is_first_time.is_(True), Call.is_target.is_(True))),
        func.sum(case((answered, func.greatest(func.coalesce(Call.talk_seconds, 0), 0)), else_=0)),
        func.sum(func.coalesce(wait, 0)),
        count(wait.is_not(None)),
        count(and_(Call.is_target.is_(True), ~by_machine)),
        count(and_(Call.is_target.is_(True), Call.target_set_by == "rule")),
        count(and_(Call.is_target.is_(True), Call.target_set_by == "model")),
    ]


def _summed_raw_call_rows(
    db: Session,
    scope: ReportScope,
    dimension: Dimension,
    days: Sequence[date],
    keep: Sequence[str],
) -> dict[RollupKey, CallCounts]:
    """The raw calls of `days` summed by PostgreSQL by the kept fields: what folding them
    (`_raw_call_rows`) gives, without fetching a row per call."""
    columns = {
        "day": func.date(func.timezone(scope.zone.key, Call.started_at)),
        "value": _sql_dimension(dimension, scope.zone),
        "source": _cut(Call.source),
        "campaign": _cut(Call.campaign),
        "status": Call.status,
        "first_time": func.coalesce(Call.is_first_time, false()),
    }
    kept = [columns[name] for name in keep]
    query = select(*kept, *_sql_measures()).where(*call_conditions(scope, days))
    if kept:
        query = query.group_by(*kept)
    return _call_sums(db, query, dimension, keep)


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
    SQL already grouped. Rolled-up days come from the month, source or day rollups (the
    narrowest that answers the query), the others are summed or folded from raw calls; a
    tag filter, or `raw=True`, reads the whole period raw. Both paths give the same rows.
    """
    _check(keep, CALL_FIELDS)
    if raw or scope.filters.tags:
        return _raw_call_rows(db, scope, dimension, None, keep)
    period = scope.period
    rolled = rolled_up_days(db, scope.project_id, period)
    rows: dict[RollupKey, CallCounts] = {}
    daily = set(rolled)
    month_dimension = _month_dimension(scope.filters, dimension, keep)
    if month_dimension is not None:
        months = built_months(db, scope.project_id, period, rolled)
        if months:
            in_months = CallMonthRollup.month.in_(months)
            sums = _rollup_sums(db, scope, dimension, keep, _MONTH, month_dimension, in_months)
            _merge(rows, sums)
            daily -= {day for month in months for day in Period(month, month_end(month)).dates()}
    if daily:
        table = _SOURCE if _by_source(scope.filters, dimension, keep) else _DAILY
        when = rolled_days_condition(table.columns["day"], daily)
        _merge(rows, _rollup_sums(db, scope, dimension, keep, table, dimension.value, when))
    missing = [day for day in period.dates() if day not in rolled]
    if missing and dialect_of(db) == "postgresql":
        # Stale days (today, on a busy project, most of the time) summed by the database.
        _merge(rows, _summed_raw_call_rows(db, scope, dimension, missing, keep))
    elif missing:
        _merge(rows, _raw_call_rows(db, scope, dimension, missing, keep))
    return rows


@dataclass(frozen=True)
class _RollupTable:
    """A call rollup table as `_rollup_sums` reads it: its model and the columns answering
    each kept key field and filter."""

    model: Any
    columns: Mapping[str, Any]


_DAILY = _RollupTable(CallRollup, _CALL_COLUMNS)
_SOURCE = _RollupTable(
    CallSourceRollup,
    {
        "day": CallSourceRollup.day,
        "value": CallSourceRollup.value,
        "source": CallSourceRollup.source,
        "campaign": CallSourceRollup.campaign,
    },
)
_MONTH = _RollupTable(
    CallMonthRollup,
    {
        "day": CallMonthRollup.value,  # the day "dimension" keeps the ISO date as its value
        "value": CallMonthRollup.value,
        "source": CallMonthRollup.source,
        "campaign": CallMonthRollup.campaign,
    },
)


def _rollup_sums(
    db: Session,
    scope: ReportScope,
    dimension: Dimension,
    keep: Sequence[str],
    table: _RollupTable,
    stored_dimension: str,
    when: ColumnElement[bool],
) -> dict[RollupKey, CallCounts]:
    """The `table` rows of `stored_dimension` selected by `when` (days or months) and the
    filters, summed in SQL by the kept fields. The caller has checked that `table` has a
    column for every kept field and filter."""
    filters, model, columns = scope.filters, table.model, table.columns
    kept = [columns[name] for name in keep]
    query = select(*kept, *(func.sum(getattr(model, name)) for name in MEASURES)).where(
        model.project_id == scope.project_id, model.dimension == stored_dimension, when
    )
    if filters.sources:
        query = query.where(columns["source"].in_(filters.sources))
    if filters.campaigns:
        query = query.where(columns["campaign"].in_(filters.campaigns))
    if filters.statuses:
        query = query.where(columns["status"].in_(filters.statuses))
    if filters.first_time is not None:
        query = query.where(columns["first_time"].is_(filters.first_time))
    if kept:
        query = query.group_by(*kept)
    return _call_sums(db, query, dimension, keep)


def _as_date(value: date | str) -> date:
    """A day as day rollups keep it (a date) or month rollups do (its ISO text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


_KEY_FIELDS = [field.name for field in fields(RollupKey)]
_KEY_TYPES: dict[str, Callable[[Any], Any]] = {"first_time": bool, "day": _as_date}


def _call_sums(
    db: Session, query: Any, dimension: Dimension, keep: Sequence[str]
) -> dict[RollupKey, CallCounts]:
    """The rows of a rollup `query` (the kept columns, then the sums of MEASURES) as keys and
    counts. A year's rows are thousands, so keys are built positionally."""
    blank = _blank(RollupKey, keep, dimension=dimension.value)
    template: list[Any] = [blank.get(name) for name in _KEY_FIELDS]
    places = [_KEY_FIELDS.index(name) for name in keep]
    converters = [_KEY_TYPES.get(name) for name in keep]
    width = len(keep)
    rows: dict[RollupKey, CallCounts] = {}
    for row in db.execute(query):
        if row[width] is None:  # no group: the sums of no rows
            continue
        values = list(template)
        for index, place in enumerate(places):
            convert = converters[index]
            values[place] = row[index] if convert is None else convert(row[index])
        rows[RollupKey(*values)] = CallCounts(*map(int, row[width:]))
    return rows


def _by_source(filters: ReportFilters, dimension: Dimension, keep: Sequence[str]) -> bool:
    """Whether `call_source_rollups` answer this query: they keep the day, the dimension
    value and the source (and the campaign for the total), not status or first-time."""
    if filters.statuses or filters.first_time is not None or filters.tags:
        return False
    if dimension is Dimension.TOTAL:
        return set(keep) <= {"day", "value", "source", "campaign"}
    return not filters.campaigns and set(keep) <= {"day", "value", "source"}


def _month_dimension(
    filters: ReportFilters, dimension: Dimension, keep: Sequence[str]
) -> str | None:
    """The `call_month_rollups` dimension that answers this query, if one does.

    Month rows are the source rows of a month (`_by_source`) without the day, plus the daily
    totals by source under `DAY_DIMENSION`.
    """
    if not _by_source(filters, dimension, keep):
        return None
    if "day" not in keep:
        return dimension.value
    if dimension is Dimension.TOTAL and set(keep) <= {"day", "source"} and not filters.campaigns:
        return DAY_DIMENSION
    return None


def built_months(db: Session, project_id: int, period: Period, rolled: set[date]) -> list[date]:
    """The months wholly inside `period` whose month rollups are built and whose every day
    is in `rolled` (built and not stale), so their month rows equal the sum of their days."""
    whole = [
        month
        for month in whole_months(period)
        if all(day in rolled for day in Period(month, month_end(month)).dates())
    ]
    if not whole:
        return []
    built = set(
        db.scalars(
            select(RollupMonth.month).where(
                RollupMonth.project_id == project_id, RollupMonth.month.in_(whole)
            )
        )
    )
    return [month for month in whole if month in built]


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
            LeadRollup.project_id == scope.project_id, rolled_days_condition(LeadRollup.day, rolled)
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
        # Without the landing page, the same sums come from the far smaller table kept
        # without it.
        table: Any = VisitRollup if "landing_page" in keep else VisitSourceRollup
        kept = [getattr(table, _VISIT_COLUMNS[name].key) for name in keep]
        query = select(*kept, func.sum(table.visits)).where(
            table.project_id == scope.project_id, rolled_days_condition(table.day, rolled)
        )
        if filters.sources:
            query = query.where(table.source.in_(filters.sources))
        if filters.campaigns:
            query = query.where(table.campaign.in_(filters.campaigns))
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
    sums: dict[K, list[int]] = {}
    for key, counts in rows.items():
        group = by(key)
        values = astuple_counts(counts)
        total = sums.get(group)
        if total is None:
            sums[group] = list(values)
        else:
            total[:] = map(add, total, values)
    return {group: CallCounts(*total) for group, total in sums.items()}


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
