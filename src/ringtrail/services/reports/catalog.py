"""The report catalogue: every report by id, in order, and the one way to compute one.

The API, the dashboard and the exports all call `build_report` (or `build_overview`), so a
figure is computed in one place. Reports are built in `calls_reports`, `call_kind_reports`,
`traffic_reports`, `heatmap_report`, `money_reports`, `pool_report` and `overview`; each
reads its figures through the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import DEFAULT_COMPARISON, Comparison, Period
from ringtrail.leases.base import LeaseBackend
from ringtrail.services.errors import NotFound
from ringtrail.services.reports import (
    call_kind_reports,
    callback_report,
    calls_reports,
    heatmap_report,
    money_reports,
    traffic_reports,
)
from ringtrail.services.reports.context import REPORT_TITLES, ReportContext
from ringtrail.services.reports.engine import ReportFilters
from ringtrail.services.reports.model import Report
from ringtrail.services.reports.overview import overview
from ringtrail.services.reports.pool_report import pool_health_report
from ringtrail.storage.models import Project

Builder = Callable[[ReportContext], Report]

BUILDERS: dict[str, Builder] = {
    "keywords": calls_reports.keywords,
    "campaigns": money_reports.campaigns,
    "lead_mix": calls_reports.lead_mix,
    "origin": calls_reports.origin,
    "duration": call_kind_reports.duration,
    "geography": calls_reports.geography,
    "uniqueness": call_kind_reports.uniqueness,
    "profit": money_reports.profit,
    "sources": traffic_reports.sources,
    "missed": traffic_reports.missed,
    "heatmap": heatmap_report.heatmap,
    "quality": traffic_reports.quality,
    "pool_health": pool_health_report,
    "callbacks": callback_report.callbacks,
}
REPORT_IDS: tuple[str, ...] = tuple(BUILDERS)
"""Every report of the catalogue, in the order the dashboard lists them (without the overview)."""
OVERVIEW_ID = "overview"
GROUPINGS: tuple[str, ...] = tuple(traffic_reports.GROUPINGS)
"""The `by` choices of the sources report."""


def report_title(report_id: str) -> str:
    """The English title (an `N_` message id) of a report or the overview; NotFound if none."""
    try:
        return REPORT_TITLES[report_id]
    except KeyError:
        raise NotFound(f"no report {report_id!r}") from None


def report_titles() -> list[tuple[str, str]]:
    """(id, English title) of every report, in catalogue order."""
    return [(report_id, REPORT_TITLES[report_id]) for report_id in REPORT_IDS]


def build_report(
    db: Session,
    project: Project,
    report_id: str,
    period: Period,
    filters: ReportFilters | None = None,
    *,
    by: str | None = None,
    model: str | None = None,
    lease_backend: LeaseBackend | None = None,
    now: datetime | None = None,
    comparison: Comparison = DEFAULT_COMPARISON,
) -> Report:
    """Report `report_id` of `project` over `period` (and the period `comparison` names:
    the previous period, or the same period last year).

    `by` picks the grouping of the sources report (source, medium, campaign, landing_page);
    `model` the attribution model of the money figures (the project's own when None).
    `lease_backend` and `now` serve the pool health report (a SQL backend on the session's
    engine and the current time when None). Raises NotFound for an unknown report id and
    InvalidInput naming `by` or `model` when one cannot be used.
    """
    builder = BUILDERS.get(report_id)
    if builder is None:
        raise NotFound(f"no report {report_id!r}")
    context = _context(db, project, period, filters, by, model, lease_backend, now, comparison)
    return builder(context)


def build_overview(
    db: Session,
    project: Project,
    period: Period,
    filters: ReportFilters | None = None,
    *,
    model: str | None = None,
    comparison: Comparison = DEFAULT_COMPARISON,
) -> Report:
    """The overview: headline figures, calls per day and calls by source."""
    return overview(_context(db, project, period, filters, None, model, None, None, comparison))


def _context(
    db: Session,
    project: Project,
    period: Period,
    filters: ReportFilters | None,
    by: str | None,
    model: str | None,
    lease_backend: LeaseBackend | None,
    now: datetime | None,
    comparison: Comparison,
) -> ReportContext:
    return ReportContext.of(
        db,
        project,
        period,
        filters,
        comparison,
        by=traffic_reports.grouping(by) if by is not None else None,
        model=money_reports.attribution_model(model, project.attribution_model),
        lease_backend=lease_backend,
        now=now,
    )
