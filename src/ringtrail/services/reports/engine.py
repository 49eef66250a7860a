"""Counts for reports: calls, leads and visits of one project and period, filtered.

Every report reads its figures through `call_rows`, `lead_rows` and `visit_rows`, which
return rollup-shaped rows (domain/reports/rollup.py) already filtered to the period and the
report filters. Callers regroup them with `regroup`.

This first version folds the raw rows of the period on every call; the rollup tables make
the same answer cheap for days already rolled up (docs/reports.md).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.facts import NOT_SET, CallFact, LeadFact
from ringtrail.domain.reports.periods import Period, local_day
from ringtrail.domain.reports.rollup import (
    Dimension,
    LeadKey,
    RollupKey,
    VisitKey,
    fold_calls,
    fold_leads,
)
from ringtrail.storage.models import Call, CallTag, Lead, Project, Tag, Visit

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


def _call_conditions(scope: ReportScope) -> list[ColumnElement[bool]]:
    start, end = scope.period.utc_bounds(scope.zone)
    filters = scope.filters
    conditions = [
        Call.project_id == scope.project_id,
        Call.started_at >= start,
        Call.started_at < end,
    ]
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


def call_facts(db: Session, scope: ReportScope, *, with_snapshot: bool = False) -> list[CallFact]:
    """The calls of the scope as facts (raw rows; use `call_rows` for counts)."""
    columns = [
        Call.id, Call.started_at, Call.answered_at, Call.status, Call.talk_seconds,
        Call.is_first_time, Call.is_unique, Call.is_target, Call.attribution_kind,
        Call.source, Call.medium, Call.campaign, Call.keyword, Call.landing_page,
        Call.caller_region,
    ]  # fmt: skip
    if with_snapshot:
        columns.append(Call.snapshot)
    facts = []
    for row in db.execute(select(*columns).where(*_call_conditions(scope))):
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


def call_rows(
    db: Session, scope: ReportScope, dimension: Dimension = Dimension.TOTAL
) -> dict[RollupKey, CallCounts]:
    """The scope's calls counted by local day, `dimension` value and the filter columns."""
    facts = call_facts(db, scope, with_snapshot=dimension is Dimension.VISITOR_REGION)
    return fold_calls(facts, scope.zone, dimensions=(dimension,))


def lead_rows(db: Session, scope: ReportScope) -> dict[LeadKey, int]:
    """The scope's leads of every kind, by local day, kind, source, campaign and target flag.

    Source and campaign filters apply; call-only filters (status, first-time, tags) apply to
    call leads only through their call.
    """
    start, end = scope.period.utc_bounds(scope.zone)
    filters = scope.filters
    query = select(
        Lead.id, Lead.created_at, Lead.kind, Lead.source, Lead.campaign, Lead.is_target
    ).where(Lead.project_id == scope.project_id, Lead.created_at >= start, Lead.created_at < end)
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


def visit_rows(db: Session, scope: ReportScope) -> dict[VisitKey, int]:
    """The scope's visits (bots left out) by local day, source, medium, campaign, landing page.

    Only the source and campaign filters apply to visits.
    """
    start, end = scope.period.utc_bounds(scope.zone)
    filters = scope.filters
    query = select(
        Visit.started_at, Visit.source, Visit.medium, Visit.campaign, Visit.landing_path
    ).where(
        Visit.project_id == scope.project_id,
        Visit.started_at >= start,
        Visit.started_at < end,
        Visit.is_bot.is_(False),
    )
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
