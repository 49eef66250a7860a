"""/api/v1/reports: every report as JSON, CSV or XLSX, for one project and period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.reports.periods import (
    DEFAULT_COMPARISON,
    Comparison,
    InvalidPeriod,
    Preset,
    parse_period,
)
from ringtrail.domain.roles import Permission
from ringtrail.services.calls import project_zone
from ringtrail.services.errors import InvalidInput
from ringtrail.services.reports.catalog import (
    OVERVIEW_ID,
    build_overview,
    build_report,
    report_title,
    report_titles,
)
from ringtrail.services.reports.engine import ReportFilters
from ringtrail.services.reports.exporting import report_data, report_table_export
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import MAX_ID, Text100, Text500
from ringtrail.web.deps import DbSession
from ringtrail.web.export_links import recording_links
from ringtrail.web.tracking.api import lease_backend

router = APIRouter(prefix="/reports", tags=["reports"])

ProjectQuery = Annotated[int, Query(ge=1, le=MAX_ID, description="The project's id")]
_PRESETS = ", ".join(preset.value for preset in Preset)


def _query_problem(field: str, message: str) -> RequestValidationError:
    """A parameter that cannot be used, as the 422 FastAPI gives for query parameters."""
    problem = {"loc": ("query", field), "msg": message, "type": "value_error"}
    return RequestValidationError([problem])


def _english(message: str) -> str:
    return message


@router.get("")
def list_reports(project_id: ProjectQuery, db: DbSession, principal: Principal) -> dict[str, Any]:
    """The reports a project has: id and title, the overview first."""
    load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    items = [(OVERVIEW_ID, report_title(OVERVIEW_ID)), *report_titles()]
    return {"items": [{"id": report_id, "title": title} for report_id, title in items]}


@router.get("/{report_id}", response_model=None)
def read_report(
    report_id: Annotated[str, Path(max_length=40)],
    project_id: ProjectQuery,
    request: Request,
    db: DbSession,
    principal: Principal,
    period: Annotated[
        str | None, Query(max_length=40, description=f"A named period: {_PRESETS}")
    ] = None,
    from_: Annotated[
        str | None, Query(alias="from", max_length=10, description="First day, YYYY-MM-DD")
    ] = None,
    to: Annotated[
        str | None, Query(max_length=10, description="Last day (included), YYYY-MM-DD")
    ] = None,
    source: Annotated[list[Text100] | None, Query(description="Repeatable: any of")] = None,
    campaign: Annotated[list[Text500] | None, Query(description="Repeatable: any of")] = None,
    status: Annotated[list[CallStatus] | None, Query(description="Repeatable: any of")] = None,
    tag: Annotated[list[Text100] | None, Query(description="Repeatable: any of")] = None,
    first_time: Annotated[bool | None, Query()] = None,
    compare: Annotated[
        Comparison,
        Query(
            description="What the period is compared with: previous (the calendar months "
            "before a period that starts on the first of a month, else the same number of "
            "days before) or previous_year (the same dates a year earlier)"
        ),
    ] = DEFAULT_COMPARISON,
    by: Annotated[
        str | None,
        Query(max_length=20, description="sources: source, medium, campaign or landing_page"),
    ] = None,
    model: Annotated[
        str | None,
        Query(max_length=20, description="last_non_direct, first, last or linear"),
    ] = None,
    format_: Annotated[str, Query(alias="format", pattern="^(json|csv|xlsx)$")] = "json",
    table: Annotated[
        str | None, Query(max_length=40, description="The table to export (the first if none)")
    ] = None,
) -> Any:
    """One report over a period (30 days by default) compared with the previous period (a
    calendar month with the month before) or, with `compare=previous_year`, a year earlier.

    `format=csv` or `xlsx` downloads one table of it (the first unless `table` names another).
    """
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    zone = project_zone(project)
    today = datetime.now(UTC).astimezone(zone).date()
    try:
        chosen = parse_period(today, period, from_, to)
    except InvalidPeriod as exc:
        field = "period" if period and not (from_ or to) else "from"
        raise _query_problem(field, str(exc)) from exc
    filters = ReportFilters(
        sources=tuple(source or ()),
        campaigns=tuple(campaign or ()),
        statuses=tuple(s.value for s in status or ()),
        tags=tuple(tag or ()),
        first_time=first_time,
    )
    try:
        if report_id == OVERVIEW_ID:
            report = build_overview(db, project, chosen, filters, model=model, comparison=compare)
        else:
            report = build_report(
                db,
                project,
                report_id,
                chosen,
                filters,
                by=by,
                model=model,
                lease_backend=lease_backend(request),
                comparison=compare,
            )
        if format_ == "json":
            return report_data(report)
        content, media_type, filename = report_table_export(
            report,
            table,
            _english,
            format_,
            zone=zone,
            currency=project.currency,
            recording_links=recording_links(request, db),
            project=project.slug,
        )
    except InvalidInput as exc:
        raise _query_problem(exc.field, exc.message) from exc
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
