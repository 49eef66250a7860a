"""/api/v1/projects/{id}/calls: the project's calls, filtered and paged (or exported as CSV or
XLSX with `format`), and one call's trace with its marks and comments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.reports.facts import CallOrigin
from ringtrail.domain.roles import Permission
from ringtrail.services.call_export import MAX_EXPORT_ROWS, export_calls, export_filename
from ringtrail.services.calls import (
    ANALYTICS_IDS,
    DEFAULT_PAGE,
    DURATIONS,
    MAX_PAGE,
    MAX_SEARCH_LENGTH,
    CallDetail,
    CallFilters,
    CallPage,
    get_call,
    list_calls,
)
from ringtrail.services.errors import InvalidInput
from ringtrail.services.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, Phone, ProjectId, Text100, Text200, Text500
from ringtrail.web.api.schemas import Output
from ringtrail.web.deps import DbSession
from ringtrail.web.export_links import recording_links

router = APIRouter(prefix="/projects/{project_id}/calls", tags=["calls"])

_MOMENT = (
    "An ISO date or datetime; a date, or a datetime without an offset, is read in the "
    "project's time zone."
)
Flag = Annotated[bool | None, Query()]
_NOT_SET = ' An empty value matches calls without one ("(not set)" in reports).'


class ExportFormat(StrEnum):
    """What the list answers: a JSON page, or every matching call as a file."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class CallOut(Output):
    id: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    talk_seconds: int | None
    status: str = Field(description=f"One of: {', '.join(CallStatus)}")
    caller: str | None
    dialled: str
    tracking_number_id: int | None
    is_first_time: bool | None
    is_unique: bool | None
    is_target: bool | None
    needs_callback: bool
    source: str | None
    medium: str | None
    campaign: str | None
    keyword: str | None
    landing_page: str | None
    attribution_kind: str
    confidence: float
    caller_country: str | None
    caller_region: str | None
    tags: list[str]
    has_recording: bool
    analytics_ids: dict[str, str] = Field(
        description="The ad click ids and analytics cookies of the call's visit, those it "
        f"holds: any of {', '.join(ANALYTICS_IDS)}"
    )


class CallPageOut(Output):
    items: list[CallOut]
    next_cursor: str | None


class CallEventOut(Output):
    type: str
    occurred_at: datetime
    provider: str


class CallCommentOut(Output):
    id: int
    created_at: datetime
    user_id: int | None
    author: str | None
    body: str


class CallScoreOut(Output):
    created_at: datetime
    scored_by: str = Field(description='"user" (a person), "rule" or "model"')
    label: str
    user_id: int | None
    score: float | None
    detail: str | None = Field(
        default=None, description='The rule ("rule:3 Spam") or model version that judged'
    )


class CallTagSourceOut(Output):
    name: str
    set_by: str = Field(description='"user" (a person), "rule" or "model"')
    set_at: datetime | None
    detail: str | None = Field(description="The rule or model version that set it")


class CallDetailOut(CallOut):
    """A call with why it was attributed as it was: the reason, the ranked candidates, the
    visit snapshot it copied, and the provider events it was built from."""

    attribution_reason: str
    candidates: list[dict[str, Any]]
    snapshot: dict[str, Any]
    visitor_id: int | None
    visit_id: int | None
    first_call_id: int | None
    lead_id: int | None
    provider: str
    provider_call_id: str
    forwarded_to: str | None
    target_set_by: str | None = Field(
        description='Who set is_target: "user" (a person; always wins), "rule" or "model"'
    )
    target_set_at: datetime | None = Field(default=None, description="When is_target was set")
    tag_sources: list[CallTagSourceOut] = Field(
        default_factory=list, description="Each tag with who set it and when"
    )
    deal_value: float | None
    events: list[CallEventOut]
    comments: list[CallCommentOut]
    scores: list[CallScoreOut] = Field(description="Target marks and model scores, oldest first")
    callback_at: datetime | None = Field(
        default=None, description="When the callback this missed call needed was settled"
    )
    callback_resolution: str | None = Field(
        default=None,
        description='"called_back" (a person rang back) or "answered_call" (a later answered '
        "call with the same caller, either direction)",
    )
    callback_user_id: int | None = Field(default=None, description="Who rang back")
    callback_call_id: int | None = Field(
        default=None, description="The answered call that settled it"
    )


def _query_problem(exc: InvalidInput) -> RequestValidationError:
    """A filter the service could not read, as the 422 FastAPI gives for query parameters."""
    return RequestValidationError(
        [{"loc": ("query", exc.field), "msg": exc.message, "type": "value_error"}]
    )


@router.get("", response_model=CallPageOut)
def list_(
    request: Request,
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, description=f"Start. {_MOMENT}")
    ] = None,
    to: Annotated[
        str | None, Query(max_length=40, description=f"End, exclusive. {_MOMENT}")
    ] = None,
    source: Annotated[
        list[Text100] | None, Query(description=f"Repeatable: any of.{_NOT_SET}")
    ] = None,
    medium: Annotated[Text100 | None, Query(description=_NOT_SET)] = None,
    campaign: Annotated[
        list[Text500] | None, Query(description=f"Repeatable: any of.{_NOT_SET}")
    ] = None,
    keyword: Annotated[Text500 | None, Query(description=_NOT_SET)] = None,
    landing_page: Annotated[Text500 | None, Query(description=_NOT_SET)] = None,
    caller_region: Annotated[Text200 | None, Query(description=_NOT_SET)] = None,
    visitor_region: Annotated[
        Text200 | None, Query(description=f"The visitor's region (from their IP).{_NOT_SET}")
    ] = None,
    origin: Annotated[
        CallOrigin | None, Query(description="ad: static number; site: after a visit")
    ] = None,
    duration: Annotated[
        str | None, Query(max_length=20, description=f"One of: {', '.join(DURATIONS)}")
    ] = None,
    hour_of_week: Annotated[
        str | None,
        Query(
            max_length=4,
            description="Heatmap cell <weekday>-<hour>, Monday = 0, project's local time: 0-09",
        ),
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=MAX_SEARCH_LENGTH,
            description="Caller number digits, or text in source, campaign or keyword",
        ),
    ] = None,
    transcript: Annotated[
        str | None,
        Query(max_length=MAX_SEARCH_LENGTH, description="Text said on the call (its transcript)"),
    ] = None,
    status: Annotated[list[CallStatus] | None, Query(description="Repeatable: any of")] = None,
    first_time: Flag = None,
    unique: Flag = None,
    target: Flag = None,
    needs_callback: Flag = None,
    tag: Annotated[list[Text100] | None, Query(description="Repeatable: any of")] = None,
    number: Annotated[Phone | None, Query(description="The dialled tracking number")] = None,
    caller: Annotated[Phone | None, Query(description="The caller's number")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    format: Annotated[
        ExportFormat,
        Query(
            description=f"csv or xlsx: every matching call (at most {MAX_EXPORT_ROWS:,}) "
            "as a file; cursor and limit are ignored"
        ),
    ] = ExportFormat.JSON,
) -> CallPage | Response:
    """The project's calls, newest first, one page at a time (follow `next_cursor`)."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    filters = CallFilters(
        period_from=from_,
        period_to=to,
        sources=source or [],
        medium=medium,
        campaigns=campaign or [],
        statuses=[s.value for s in status or []],
        first_time=first_time,
        unique=unique,
        target=target,
        needs_callback=needs_callback,
        tags=tag or [],
        number=number,
        caller=caller,
        keyword=keyword,
        landing_page=landing_page,
        caller_region=caller_region,
        visitor_region=visitor_region,
        origin=None if origin is None else origin.value,
        duration=duration,
        hour_of_week=hour_of_week,
        search=search,
        transcript=transcript,
    )
    masked = not principal.may(Permission.SEE_CALLER_NUMBERS)
    try:
        if format is ExportFormat.JSON:
            return list_calls(db, project, filters, cursor=cursor, limit=limit, mask_callers=masked)
        body = export_calls(
            db,
            project,
            filters,
            format.value,
            mask_callers=masked,
            recording_links=recording_links(request, db),
        )
    except InvalidInput as exc:
        raise _query_problem(exc) from exc
    media_type = CSV_MEDIA_TYPE if format is ExportFormat.CSV else XLSX_MEDIA_TYPE
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": "attachment; "
            f'filename="{export_filename(project, filters, format.value)}"'
        },
    )


@router.get("/{call_id}", response_model=CallDetailOut)
def read(project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal) -> CallDetail:
    """One call with its attribution trace and its provider events in time order."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    masked = not principal.may(Permission.SEE_CALLER_NUMBERS)
    return get_call(db, project, call_id, mask_callers=masked)
