"""What every report is built from: the project, the period and its comparison, the filters,
and the shared pieces (drill-down links, headline pairs, sorted tables).

Drill-down links are the calls-log query parameters (`services/calls.py` `CallFilters`) that
list exactly a row's calls: the period (`from` included, `to` excluded, local ISO dates), the
report's active filters, and the row's own value (`source=google`, `hour_of_week=0-09`...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.domain.money import DEFAULT_MODEL, AttributionModel
from ringtrail.domain.reports.counts import CallCounts, ratio
from ringtrail.domain.reports.periods import DEFAULT_COMPARISON, Comparison, Period
from ringtrail.leases.base import LeaseBackend
from ringtrail.services.reports.engine import ReportFilters, ReportScope
from ringtrail.services.reports.model import (
    N_,
    Chart,
    Column,
    Headline,
    Report,
    Row,
    Table,
    ValueKind,
)
from ringtrail.storage.models import Project

Drill = dict[str, str | list[str]]
REPORT_TITLES: dict[str, str] = {
    "overview": N_("Overview"),
    "keywords": N_("Top keywords"),
    "campaigns": N_("Top campaigns"),
    "lead_mix": N_("Calls among all leads"),
    "origin": N_("Calls from ads and from the site"),
    "duration": N_("Call duration"),
    "geography": N_("Geography"),
    "uniqueness": N_("Unique, target and repeat calls"),
    "profit": N_("Profit and ROMI"),
    "sources": N_("Calls by source"),
    "missed": N_("Missed calls and time to answer"),
    "heatmap": N_("Calls by weekday and hour"),
    "quality": N_("Lead quality by source"),
    "pool_health": N_("Pool health"),
    "callbacks": N_("Callbacks from the widget"),
}
"""Every report's title, in the order the dashboard lists them (the overview first)."""
TOP_ROWS = 200
"""Long tables (keywords, landing pages, campaigns) keep their top rows; totals cover all."""


@dataclass(frozen=True)
class ReportContext:
    """One report request: where, when, narrowed how, and the comparison period."""

    db: Session
    project: Project
    scope: ReportScope
    previous: ReportScope
    by: str | None = None
    """The grouping a report offers a choice of (calls by source, medium...)."""
    model: AttributionModel = DEFAULT_MODEL
    """The attribution model revenue is credited under."""
    lease_backend: LeaseBackend | None = None
    now: datetime | None = None
    """The moment "now" for figures that are a state rather than a period (pool health)."""

    @classmethod
    def of(
        cls,
        db: Session,
        project: Project,
        period: Period,
        filters: ReportFilters | None,
        comparison: Comparison = DEFAULT_COMPARISON,
        **options: Any,
    ) -> ReportContext:
        """The context of a report on `project` over `period`, compared with the period
        `comparison` names (the previous period, or the same period last year)."""
        scope = ReportScope.of(project, period, filters)
        return cls(
            db, project, scope, scope.with_period(period.compared_with(comparison)), **options
        )

    def report(
        self,
        report_id: str,
        *,
        headlines: list[Headline] | None = None,
        tables: list[Table] | None = None,
        charts: list[Chart] | None = None,
        notes: list[str] | None = None,
    ) -> Report:
        """The computed report `report_id` over this context's period."""
        return Report(
            id=report_id,
            title=REPORT_TITLES[report_id],
            period=self.period,
            previous_period=self.previous.period,
            headlines=headlines or [],
            tables=tables or [],
            charts=charts or [],
            notes=notes or [],
        )

    @property
    def period(self) -> Period:
        """The period reported on."""
        return self.scope.period

    @property
    def filters(self) -> ReportFilters:
        """The report's filters."""
        return self.scope.filters

    def drill(self, day: date | None = None, /, **row: Any) -> Drill:
        """The calls-log parameters for the calls of one row: the period (or the one local
        `day`), the active filters, then the row's own values (which win over a filter)."""
        first = day or self.period.start
        last = day or self.period.end
        params: Drill = {
            "from": first.isoformat(),
            "to": (last + timedelta(days=1)).isoformat(),
        }
        filters = self.filters
        for key, values in (
            ("source", filters.sources),
            ("campaign", filters.campaigns),
            ("status", filters.statuses),
            ("tag", filters.tags),
        ):
            if values:
                params[key] = values[0] if len(values) == 1 else list(values)
        if filters.first_time is not None:
            params["first_time"] = flag(filters.first_time)
        for key, value in row.items():
            params[key] = flag(value) if isinstance(value, bool) else str(value)
        return params


def flag(value: bool) -> str:
    """A boolean as a query parameter."""
    return "true" if value else "false"


def headline(
    key: str,
    label: str,
    kind: ValueKind,
    value: Any,
    previous: Any = None,
    *,
    drill: Drill | None = None,
) -> Headline:
    """A headline figure with its value over the comparison period (and the calls-log
    filters that list its calls, `drill`)."""
    return Headline(key=key, label=label, kind=kind, value=value, previous=previous, drill=drill)


def label_column(key: str, label: str) -> Column:
    """A column of dimension values (a source, a keyword...)."""
    return Column(key, label, ValueKind.TEXT)


JUDGE_COLUMNS = (
    Column("target_by_user", N_("Target: by people"), ValueKind.COUNT),
    Column("target_by_rule", N_("Target: by rules"), ValueKind.COUNT),
    Column("target_by_model", N_("Target: by the model"), ValueKind.COUNT),
)
"""Target calls by who marked them; the three add up to "Target calls"."""
CALL_COLUMNS = (
    Column("calls", N_("Calls"), ValueKind.COUNT),
    Column("unique", N_("Unique calls"), ValueKind.COUNT),
    Column("target", N_("Target calls"), ValueKind.COUNT),
    *JUDGE_COLUMNS,
    Column("target_share", N_("Target share"), ValueKind.SHARE),
)
"""The call figures most tables show for each of their rows."""
SHARE_COLUMN = Column("share", N_("Share of calls"), ValueKind.SHARE)


def call_cells(counts: CallCounts) -> dict[str, Any]:
    """The cells of `CALL_COLUMNS` for one group of calls."""
    return {
        "calls": counts.calls,
        "unique": counts.unique,
        "target": counts.target,
        **judge_cells(counts),
        "target_share": counts.target_share,
    }


def judge_cells(counts: CallCounts) -> dict[str, int]:
    """The cells of `JUDGE_COLUMNS`: target calls by people, by rules and by the model."""
    return {
        "target_by_user": counts.target_by_user,
        "target_by_rule": counts.target_by_rule,
        "target_by_model": counts.target_by_model,
    }


def share_of(part: int, whole: int) -> float | None:
    """`part` as a share of `whole`."""
    return ratio(part, whole)


def ranked(
    groups: Mapping[str, CallCounts], limit: int | None = TOP_ROWS
) -> list[tuple[str, CallCounts]]:
    """Groups by calls, most first (ties by value), cut to `limit`."""
    items = sorted(groups.items(), key=lambda item: (-item[1].calls, item[0]))
    return items if limit is None else items[:limit]


def dimension_rows(
    context: ReportContext,
    groups: Mapping[str, CallCounts],
    value_key: str,
    drill_key: str,
    *,
    limit: int | None = TOP_ROWS,
    extra: Callable[[str, CallCounts], dict[str, Any]] | None = None,
) -> list[Row]:
    """One row per dimension value with the call figures and its drill-down."""
    total_calls = sum(counts.calls for counts in groups.values())
    rows = []
    for value, counts in ranked(groups, limit):
        cells = {value_key: value, **call_cells(counts)}
        cells["share"] = share_of(counts.calls, total_calls)
        if extra is not None:
            cells.update(extra(value, counts))
        rows.append(Row(cells, context.drill(**{drill_key: value})))
    return rows


def call_totals(counts: CallCounts, label_key: str) -> dict[str, Any]:
    """The totals row of a table of `CALL_COLUMNS`."""
    return {label_key: N_("Total"), **call_cells(counts), "share": 1.0 if counts.calls else None}
