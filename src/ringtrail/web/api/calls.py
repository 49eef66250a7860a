"""/api/v1/projects/{id}/calls: the project's calls, filtered and paged, and one call's trace."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import Field

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.roles import Permission
from ringtrail.services.calls import (
    DEFAULT_PAGE,
    MAX_PAGE,
    CallDetail,
    CallFilters,
    CallPage,
    get_call,
    list_calls,
)
from ringtrail.services.errors import InvalidInput
from ringtrail.web.api.auth import DbSession, Principal, load_project
from ringtrail.web.api.fields import ItemId, Phone, ProjectId, Text100, Text500
from ringtrail.web.api.schemas import Output

router = APIRouter(prefix="/projects/{project_id}/calls", tags=["calls"])

_MOMENT = (
    "An ISO date or datetime; a date, or a datetime without an offset, is read in the "
    "project's time zone."
)
Flag = Annotated[bool | None, Query()]


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


class CallPageOut(Output):
    items: list[CallOut]
    next_cursor: str | None


class CallEventOut(Output):
    type: str
    occurred_at: datetime
    provider: str


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
    events: list[CallEventOut]


def _query_problem(exc: InvalidInput) -> RequestValidationError:
    """A filter the service could not read, as the 422 FastAPI gives for query parameters."""
    return RequestValidationError(
        [{"loc": ("query", exc.field), "msg": exc.message, "type": "value_error"}]
    )


@router.get("", response_model=CallPageOut)
def list_(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, description=f"Start. {_MOMENT}")
    ] = None,
    to: Annotated[
        str | None, Query(max_length=40, description=f"End, exclusive. {_MOMENT}")
    ] = None,
    source: Annotated[Text100 | None, Query()] = None,
    medium: Annotated[Text100 | None, Query()] = None,
    campaign: Annotated[Text500 | None, Query()] = None,
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
) -> CallPage:
    """The project's calls, newest first, one page at a time (follow `next_cursor`)."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    filters = CallFilters(
        period_from=from_,
        period_to=to,
        source=source,
        medium=medium,
        campaign=campaign,
        statuses=[s.value for s in status or []],
        first_time=first_time,
        unique=unique,
        target=target,
        needs_callback=needs_callback,
        tags=tag or [],
        number=number,
        caller=caller,
    )
    try:
        return list_calls(db, project, filters, cursor=cursor, limit=limit)
    except InvalidInput as exc:
        raise _query_problem(exc) from exc


@router.get("/{call_id}", response_model=CallDetailOut)
def read(project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal) -> CallDetail:
    """One call with its attribution trace and its provider events in time order."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    return get_call(db, project, call_id)
