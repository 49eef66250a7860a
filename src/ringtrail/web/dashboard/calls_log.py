"""The calls log: search, filters, audio player, marking target, tags, comments, deal value,
and "called back" for a missed call that needs a callback.

`/p/{id}/calls` lists the project's calls (filters and report drill-downs read by
calls_filters.py), newest first, a keyset page at a time; `calls.csv` and `calls.xlsx`
download the same calls. `/p/{id}/calls/{call_id}` shows one call: its details, the
attribution trace, a player for its recording (a short-lived signed link) and, for roles
that may mark calls, plain POST forms that redirect back (303), so no script is needed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from ringtrail.domain.roles import Permission
from ringtrail.recordings.library import link_to_recording
from ringtrail.services.call_export import MAX_EXPORT_ROWS, export_calls, export_filename
from ringtrail.services.call_labels import ATTRIBUTION_LABELS, STATUS_LABELS
from ringtrail.services.call_marking import (
    MAX_COMMENT_LENGTH,
    add_comment,
    mark_target,
    read_deal_value,
    set_deal_value,
    set_tags,
)
from ringtrail.services.callbacks import mark_called_back
from ringtrail.services.calls import DEFAULT_PAGE, CallDetail, get_call, list_calls
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_style
from ringtrail.services.reports.model import N_
from ringtrail.storage.models import User
from ringtrail.storage.models.base import utcnow
from ringtrail.web.dashboard.call_labels import EVENT_LABELS, PHASE_LABELS, SCORER_LABELS
from ringtrail.web.dashboard.calls_filters import (
    DURATION_LABELS,
    FILTER_LABELS,
    ORIGIN_LABELS,
    WEEKDAY_LABELS,
    CallsQuery,
    read_calls_query,
)
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.integrations_pages import STATUS_LABELS as DELIVERY_STATUS_LABELS
from ringtrail.web.dashboard.integrations_pages import call_delivery_rows
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.dashboard.templating import request_locale
from ringtrail.web.dashboard.transcript_pages import transcript_context
from ringtrail.web.deps import DbSession
from ringtrail.web.export_links import recording_links
from ringtrail.web.recordings import STREAM_ROUTE

router = dashboard_router()
CallId = Annotated[int, Path(ge=1, le=2**63 - 1)]
FormText = Annotated[str, Form(max_length=MAX_COMMENT_LENGTH * 2)]
TARGET_CHOICES: dict[str, bool | None] = {"true": True, "false": False, "clear": None}
FORM_ERRORS: dict[str, str] = {
    "tags": N_("Tags: at most 20, each at most 100 characters."),
    "body": N_("A comment may not be empty or longer than 4000 characters."),
    "deal_value": N_("The deal value must be a number, zero or more."),
    "callback": N_("This call does not need a callback."),
}


def _translate(request: Request) -> Any:
    dashboard = dashboard_of(request)
    catalogs = dashboard.templates.catalogs
    return catalogs.get(request_locale(request, catalogs.default_locale)).gettext


def _labels() -> dict[str, Any]:
    return {
        "filter_labels": FILTER_LABELS,
        "status_labels": STATUS_LABELS,
        "origin_labels": ORIGIN_LABELS,
        "attribution_labels": ATTRIBUTION_LABELS,
        "duration_labels": DURATION_LABELS,
        "weekday_labels": WEEKDAY_LABELS,
        "event_labels": EVENT_LABELS,
        "phase_labels": PHASE_LABELS,
        "scorer_labels": SCORER_LABELS,
    }


def _query_error(exc: InvalidInput) -> str:
    key = {"period_from": "from", "period_to": "to", "status": "status"}.get(exc.field, exc.field)
    return FILTER_LABELS.get(key, key)


@router.get("/p/{project_id}/calls")
def calls_page(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The calls log: the filter form, the active drill-down chips and one page of calls."""
    opened = open_project(db, user, project_id, Permission.VIEW_CALLS)
    query = read_calls_query(request.query_params)
    cursor = request.query_params.get("cursor") or None
    page = None
    bad_filter = None
    if not query.errors:
        try:
            page = list_calls(
                db,
                opened.project,
                query.filters(),
                cursor=cursor,
                limit=DEFAULT_PAGE,
                mask_callers=not opened.may(Permission.SEE_CALLER_NUMBERS),
            )
        except InvalidInput as exc:
            bad_filter = _query_error(exc)
    context = {
        **opened.page_context(),
        **_labels(),
        "query": query,
        "page": page,
        "bad_filter": bad_filter,
        "first_page": cursor is None,
        "max_export_rows": MAX_EXPORT_ROWS,
    }
    status_code = 400 if query.errors or bad_filter else 200
    return dashboard_of(request).templates.render(
        request, "calls.html", context, status_code=status_code
    )


def _export(request: Request, db: Session, user: User, project_id: int, kind: str) -> Response:
    opened = open_project(db, user, project_id, Permission.VIEW_CALLS)
    query = read_calls_query(request.query_params)
    if query.errors:
        raise PageNotFound()
    catalogs = dashboard_of(request).templates.catalogs
    locale = request_locale(request, catalogs.default_locale)
    filters = query.filters()
    try:
        body = export_calls(
            db,
            opened.project,
            filters,
            kind,
            catalogs.get(locale).gettext,
            mask_callers=not opened.may(Permission.SEE_CALLER_NUMBERS),
            csv_style=csv_style(locale),
            recording_links=recording_links(request, db),
        )
    except InvalidInput as exc:
        raise PageNotFound() from exc
    filename = export_filename(opened.project, filters, kind)
    return Response(
        body,
        media_type=CSV_MEDIA_TYPE if kind == "csv" else XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/p/{project_id}/calls.csv")
def calls_csv(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The calls the page lists (all pages, at most MAX_EXPORT_ROWS) as CSV."""
    return _export(request, db, user, project_id, "csv")


@router.get("/p/{project_id}/calls.xlsx")
def calls_xlsx(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The calls the page lists (all pages, at most MAX_EXPORT_ROWS) as an XLSX workbook."""
    return _export(request, db, user, project_id, "xlsx")


def _recording(
    request: Request, db: Session, opened: OpenProject, detail: CallDetail
) -> str | None:
    """A same-origin signed link to the call's audio, None when none is stored."""
    if not detail.has_recording:
        return None
    settings = dashboard_of(request).settings
    try:
        linked = link_to_recording(
            db,
            opened.project,
            detail.id,
            settings.resolved_secret_key(),
            settings.recording_url_ttl_seconds,
            utcnow(),
        )
    except NotFound:
        return None
    return str(request.app.url_path_for(STREAM_ROUTE, token=linked.link.token))


def _visitor_region(detail: CallDetail) -> str | None:
    geo = detail.snapshot.get("visitor_geo")
    region = geo.get("region") if isinstance(geo, dict) else None
    return region if isinstance(region, str) and region else None


def _call_page(
    request: Request,
    db: Session,
    opened: OpenProject,
    call_id: int,
    list_query: CallsQuery,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        detail = get_call(
            db,
            opened.project,
            call_id,
            mask_callers=not opened.may(Permission.SEE_CALLER_NUMBERS),
        )
    except NotFound as exc:
        raise PageNotFound() from exc
    context = {
        **opened.page_context(),
        **_labels(),
        "call": detail,
        "visitor_region": _visitor_region(detail),
        "recording_url": _recording(request, db, opened, detail),
        "list_query": list_query.query(),
        "error": error,
        "max_comment_length": MAX_COMMENT_LENGTH,
        "call_deliveries": call_delivery_rows(db, opened.project, detail.id),
        "delivery_status_labels": DELIVERY_STATUS_LABELS,
        **transcript_context(db, opened.project, detail.id),
    }
    return dashboard_of(request).templates.render(
        request, "call.html", context, status_code=status_code
    )


@router.get("/p/{project_id}/calls/{call_id}")
def call_page(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, call_id: CallId
) -> Response:
    """One call: details, attribution trace, recording, and the marking forms."""
    opened = open_project(db, user, project_id, Permission.VIEW_CALLS)
    return _call_page(request, db, opened, call_id, read_calls_query(request.query_params))


def _back(project_id: int, call_id: int, list_query: str) -> Response:
    query = read_calls_query(QueryParams(list_query)).query()
    suffix = f"?{query}" if query else ""
    return see_other(f"/p/{project_id}/calls/{call_id}{suffix}")


def _marked(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    call_id: int,
    list_query: str,
    change: Any,
) -> Response:
    """Apply `change(project_id, call_id)` for a user who may mark calls, then go back."""
    opened = open_project(db, user, project_id, Permission.MARK_CALLS)
    try:
        change(opened.project.id, call_id)
    except NotFound as exc:
        raise PageNotFound() from exc
    except InvalidInput as exc:
        db.rollback()
        return _call_page(
            request,
            db,
            opened,
            call_id,
            read_calls_query(QueryParams(list_query)),
            error=FORM_ERRORS.get(exc.field, N_("The form could not be read.")),
            status_code=400,
        )
    return _back(project_id, call_id, list_query)


@router.post("/p/{project_id}/calls/{call_id}/target")
def post_target(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    call_id: CallId,
    target: Annotated[str, Form(max_length=10)] = "",
    list_query: FormText = "",
) -> Response:
    """Mark the call target, not target, or clear the mark."""

    def change(project: int, call: int) -> None:
        if target not in TARGET_CHOICES:
            raise InvalidInput("target", "must be true, false or clear")
        mark_target(db, project, call, user.id, TARGET_CHOICES[target])

    return _marked(request, db, user, project_id, call_id, list_query, change)


@router.post("/p/{project_id}/calls/{call_id}/tags")
def post_tags(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    call_id: CallId,
    tags: FormText = "",
    list_query: FormText = "",
) -> Response:
    """Replace the call's tags with the comma-separated names given."""
    names = tags.split(",")
    return _marked(
        request,
        db,
        user,
        project_id,
        call_id,
        list_query,
        lambda project, call: set_tags(db, project, call, names, user.id),
    )


@router.post("/p/{project_id}/calls/{call_id}/comments")
def post_comment(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    call_id: CallId,
    body: FormText = "",
    list_query: FormText = "",
) -> Response:
    """Add a comment to the call."""
    return _marked(
        request,
        db,
        user,
        project_id,
        call_id,
        list_query,
        lambda project, call: add_comment(db, project, call, user.id, body),
    )


@router.post("/p/{project_id}/calls/{call_id}/callback")
def post_called_back(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    call_id: CallId,
    list_query: FormText = "",
) -> Response:
    """Record that this user rang back the caller of a missed call."""
    return _marked(
        request,
        db,
        user,
        project_id,
        call_id,
        list_query,
        lambda project, call: mark_called_back(db, project, call, user.id, utcnow()),
    )


@router.post("/p/{project_id}/calls/{call_id}/deal")
def post_deal_value(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    call_id: CallId,
    deal_value: Annotated[str, Form(max_length=40)] = "",
    list_query: FormText = "",
) -> Response:
    """Record (or, when blank, clear) the value of the deal the call led to."""

    def change(project: int, call: int) -> None:
        value: Decimal | None = read_deal_value(deal_value)
        set_deal_value(db, project, call, value)

    return _marked(request, db, user, project_id, call_id, list_query, change)
