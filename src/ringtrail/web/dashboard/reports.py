"""The report pages: the overview, the list of reports, one page per report and its exports.

Each page reads its controls (period, filters, options) from the GET query, builds the
report with the catalogue (`services/reports/catalog.py`) and shows the same `Report` the
API and the exports use; numbers are formatted in the page's locale, charts drawn on the
server (charts.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path, Query, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.call_labels import STATUS_LABELS
from ringtrail.services.exports import csv_style
from ringtrail.services.projects import tracking_tag
from ringtrail.services.reports import catalog
from ringtrail.services.reports.exporting import report_table_export
from ringtrail.services.reports.model import N_, Report
from ringtrail.storage.models import Project
from ringtrail.web.dashboard.charts import draw_charts
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.formatting import formatter_for
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId, public_base_url
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.report_controls import (
    COMPARISON_LABELS,
    GROUPING_LABELS,
    MODEL_LABELS,
    PRESET_LABELS,
    Controls,
    read_controls,
)
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.setup_pages import project_checklist
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.dashboard.templating import request_locale
from ringtrail.web.deps import DbSession
from ringtrail.web.export_links import recording_links

router = dashboard_router()
ReportId = Annotated[str, Path(max_length=40)]

REPORT_DESCRIPTIONS: dict[str, str] = {
    "keywords": N_("The search keywords that bring calls, with unique and target calls."),
    "campaigns": N_("Ad campaigns by calls and target calls."),
    "lead_mix": N_("The share of calls among calls, forms and callback requests, day by day."),
    "origin": N_("Calls straight from ads (static numbers) against calls after a site visit."),
    "duration": N_("How long calls last, and the longest calls with their recordings."),
    "geography": N_("Where callers and visitors are."),
    "uniqueness": N_(
        "Unique, unique target, first target and repeat calls as shares of all calls."
    ),
    "profit": N_(
        "Revenue from deals against ad costs: cost per call, per lead, per customer, ROMI."
    ),
    "sources": N_("Calls by source, medium, campaign or landing page."),
    "missed": N_("Missed calls and the time it takes to answer."),
    "heatmap": N_("When calls come in: a weekday by hour heatmap."),
    "quality": N_("The target share of each source against the project's goal."),
    "pool_health": N_("How busy the number pools are, overflows and the recommended size."),
    "callbacks": N_("Callback requests from the widget: how many were connected, and how fast."),
}
"""One line per report for the list of reports (titles come from the catalogue)."""
EXPORT_FORMATS = ("csv", "xlsx")


def project_today(project: Project) -> date:
    """Today's date in the project's time zone."""
    return datetime.now(UTC).astimezone(ZoneInfo(project.timezone)).date()


def _check_report_id(report_id: str) -> None:
    if report_id not in catalog.REPORT_IDS:
        raise PageNotFound()


def _build(db: Session, opened: OpenProject, report_id: str | None, controls: Controls) -> Report:
    assert controls.period is not None
    if report_id is None:
        return catalog.build_overview(
            db, opened.project, controls.period, controls.filters, comparison=controls.comparison
        )
    return catalog.build_report(
        db,
        opened.project,
        report_id,
        controls.period,
        controls.filters,
        by=controls.by or None,
        model=controls.model or None,
        comparison=controls.comparison,
    )


def _page(
    request: Request,
    db: Session,
    opened: OpenProject,
    report_id: str | None,
    template: str,
    extra: dict[str, Any],
) -> Response:
    """Read the controls, build the report and render `template` (400 with the form on bad
    controls)."""
    controls = read_controls(request.query_params, project_today(opened.project))
    templates = dashboard_of(request).templates
    locale = request_locale(request, templates.catalogs.default_locale)
    translate = templates.catalogs.get(locale).gettext
    report: Report | None = None
    charts: list[Any] = []
    if not controls.errors:
        report = _build(db, opened, report_id, controls)
        charts = draw_charts(report, formatter_for({"project": opened.project}, locale, translate))
    context = {
        **opened.page_context(),
        "report": report,
        "report_id": report_id,
        "charts": charts,
        "controls": controls,
        "preset_labels": PRESET_LABELS,
        "comparison_labels": COMPARISON_LABELS,
        "status_labels": STATUS_LABELS,
        "grouping_labels": GROUPING_LABELS,
        "model_labels": MODEL_LABELS,
        "export_query": None if report_id is None else (lambda key: controls.query(table=key)),
        **extra,
    }
    status = 400 if controls.errors else 200
    return templates.render(request, template, context, status_code=status)


@router.get("/p/{project_id}")
def overview(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """A project's headline figures and charts, compared with the previous period; the
    tracking tag for those who manage tracking."""
    opened = open_project(db, user, project_id, Permission.VIEW_REPORTS)
    snippet = None
    setup = None
    if opened.may(Permission.MANAGE_TRACKING):
        snippet = tracking_tag(public_base_url(request), opened.project.public_key)
        setup = project_checklist(db, opened)
    return _page(request, db, opened, None, "overview.html", {"snippet": snippet, "setup": setup})


@router.get("/p/{project_id}/reports")
def reports_index(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The list of reports, each with what it shows."""
    opened = open_project(db, user, project_id, Permission.VIEW_REPORTS)
    context = {
        **opened.page_context(),
        "reports": [
            (report_id, title, REPORT_DESCRIPTIONS.get(report_id, ""))
            for report_id, title in catalog.report_titles()
        ],
        "query": request.url.query,
    }
    return dashboard_of(request).templates.render(request, "reports_index.html", context)


@router.get("/p/{project_id}/reports/{report_id}.{fmt}")
def report_export(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    report_id: ReportId,
    fmt: Annotated[str, Path(max_length=8)],
    table: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """One table of a report as CSV or XLSX: the rows the page shows, labels translated."""
    if fmt not in EXPORT_FORMATS:
        raise PageNotFound()
    _check_report_id(report_id)
    opened = open_project(db, user, project_id, Permission.VIEW_REPORTS)
    controls = read_controls(request.query_params, project_today(opened.project))
    if controls.errors:
        return _page(
            request,
            db,
            opened,
            report_id,
            "report.html",
            {"title": catalog.report_title(report_id)},
        )
    report = _build(db, opened, report_id, controls)
    if not report.tables or (table and table not in {t.key for t in report.tables}):
        raise PageNotFound()
    templates = dashboard_of(request).templates
    locale = request_locale(request, templates.catalogs.default_locale)
    labels = formatter_for({}, locale, templates.catalogs.get(locale).gettext).label
    content, media_type, filename = report_table_export(
        report,
        table or None,
        labels,
        fmt,
        zone=ZoneInfo(opened.project.timezone),
        currency=opened.project.currency,
        csv_style=csv_style(locale),
        recording_links=recording_links(request, db),
        project=opened.project.slug,
    )
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/p/{project_id}/reports/{report_id}")
def report_page(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    report_id: ReportId,
) -> Response:
    """One report: controls, headlines with their change, charts, tables with drill-downs."""
    _check_report_id(report_id)
    opened = open_project(db, user, project_id, Permission.VIEW_REPORTS)
    return _page(
        request, db, opened, report_id, "report.html", {"title": catalog.report_title(report_id)}
    )
