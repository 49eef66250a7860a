"""Reading calls: filters, newest-first keyset pages, and one call with its attribution trace.

Filters arrive as the API and dashboard receive them (text for the period and the phone
numbers); `list_calls` reads them in the project's time zone and default country and names
the filter in an InvalidInput when one cannot be read. Pages are ordered by
(`started_at`, `id`), newest first; the cursor is the position of the last call of a page,
so calls arriving meanwhile never shift a later page (no duplicates, no gaps).
"""

from __future__ import annotations

import base64
import binascii
import json
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import Call, CallEvent, CallTag, Project, Recording, Tag

DEFAULT_PAGE = 50
MAX_PAGE = 500
CALL_STATUSES = tuple(status.value for status in CallStatus)
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class CallFilters:
    """Which calls to list; every filter left as None (or empty) lets all calls through.

    `period_from` and `period_to` are ISO dates or datetimes: a date, or a datetime without
    an offset, is read in the project's time zone; `period_to` is exclusive. `statuses` and
    `tags` match a call with any of the values given. `number` is the dialled tracking
    number, `caller` the caller's number, both in any written form.
    """

    period_from: str | None = None
    period_to: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    statuses: Sequence[str] = ()
    first_time: bool | None = None
    unique: bool | None = None
    target: bool | None = None
    needs_callback: bool | None = None
    tags: Sequence[str] = ()
    number: str | None = None
    caller: str | None = None


@dataclass(frozen=True)
class CallSummary:
    """One call as a list shows it."""

    id: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    talk_seconds: int | None
    status: str
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


@dataclass(frozen=True)
class CallEventEntry:
    """One provider event of a call."""

    type: str
    occurred_at: datetime
    provider: str


@dataclass(frozen=True)
class CallDetail(CallSummary):
    """One call with its attribution trace and its events in time order."""

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
    events: list[CallEventEntry] = field(default_factory=list)


@dataclass(frozen=True)
class CallPage:
    """One page of calls and the cursor of the next page (None on the last one)."""

    items: list[CallSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last call's start and id."""

    started_at: datetime
    call_id: int


def encode_cursor(position: Position) -> str:
    """An opaque, URL-safe cursor for `position`."""
    raw = json.dumps([position.started_at.astimezone(UTC).isoformat(), position.call_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor from `encode_cursor` holds, or InvalidInput naming `cursor`."""
    problem = InvalidInput("cursor", "not a cursor given by this API")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, call_id = json.loads(raw)
        started_at = datetime.fromisoformat(moment)
        if started_at.tzinfo is None or type(call_id) is not int or not 1 <= call_id <= _MAX_ID:
            raise problem
        return Position(started_at.astimezone(UTC), call_id)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise problem from exc


def project_zone(project: Project) -> zoneinfo.ZoneInfo:
    """The project's time zone (UTC if the stored name is unknown to this system)."""
    try:
        return zoneinfo.ZoneInfo(project.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def read_moment(text: str, zone: zoneinfo.ZoneInfo, field: str) -> datetime:
    """An ISO date (its midnight) or datetime as aware UTC; no offset means `zone`'s time."""
    try:
        try:
            moment = datetime.combine(date.fromisoformat(text), time(), zone)
        except ValueError:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(field, "not an ISO 8601 date or datetime") from exc


def _phone(text: str, project: Project, field: str) -> str:
    try:
        return to_e164(text, project.default_country)
    except InvalidPhoneNumber as exc:
        raise InvalidInput(field, str(exc)) from exc


def _conditions(project: Project, filters: CallFilters) -> list[ColumnElement[bool]]:
    """The SQL conditions for `filters`, or InvalidInput naming the filter that cannot be read."""
    zone = project_zone(project)
    conditions: list[ColumnElement[bool]] = [Call.project_id == project.id]
    start = end = None
    if filters.period_from is not None:
        start = read_moment(filters.period_from, zone, "from")
        conditions.append(Call.started_at >= start)
    if filters.period_to is not None:
        end = read_moment(filters.period_to, zone, "to")
        conditions.append(Call.started_at < end)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to", "must be later than from (to is exclusive)")
    unknown = sorted(set(filters.statuses) - set(CALL_STATUSES))
    if unknown:
        raise InvalidInput("status", f"unknown status {unknown[0]!r}")
    if filters.statuses:
        conditions.append(Call.status.in_(sorted(set(filters.statuses))))
    number = None if filters.number is None else _phone(filters.number, project, "number")
    caller = None if filters.caller is None else _phone(filters.caller, project, "caller")
    for column, value in (
        (Call.source, filters.source),
        (Call.medium, filters.medium),
        (Call.campaign, filters.campaign),
        (Call.dialled_e164, number),
        (Call.caller_e164, caller),
    ):
        if value is not None:
            conditions.append(column == value)
    for flag_column, flag in (
        (Call.is_first_time, filters.first_time),
        (Call.is_unique, filters.unique),
        (Call.is_target, filters.target),
        (Call.needs_callback, filters.needs_callback),
    ):
        if flag is not None:
            conditions.append(flag_column.is_(flag))
    if filters.tags:
        tagged = (
            select(CallTag.call_id)
            .join(Tag, Tag.id == CallTag.tag_id)
            .where(Tag.project_id == project.id, Tag.name.in_(sorted(set(filters.tags))))
        )
        conditions.append(Call.id.in_(tagged))
    return conditions


def _tags_of(db: Session, call_ids: Iterable[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    rows = db.execute(
        select(CallTag.call_id, Tag.name)
        .join(Tag, Tag.id == CallTag.tag_id)
        .where(CallTag.call_id.in_(list(call_ids)))
        .order_by(Tag.name)
    )
    for call_id, name in rows:
        names.setdefault(call_id, []).append(name)
    return names


def _recorded(db: Session, call_ids: Iterable[int]) -> set[int]:
    query = select(Recording.call_id).where(Recording.call_id.in_(list(call_ids))).distinct()
    return set(db.scalars(query))


def _summary_values(call: Call, tags: list[str], has_recording: bool) -> dict[str, Any]:
    """The one place a stored call becomes what the API shows."""
    return {
        "id": call.id,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.duration_seconds,
        "talk_seconds": call.talk_seconds,
        "status": call.status,
        "caller": call.caller_e164,
        "dialled": call.dialled_e164,
        "tracking_number_id": call.tracking_number_id,
        "is_first_time": call.is_first_time,
        "is_unique": call.is_unique,
        "is_target": call.is_target,
        "needs_callback": call.needs_callback,
        "source": call.source,
        "medium": call.medium,
        "campaign": call.campaign,
        "keyword": call.keyword,
        "landing_page": call.landing_page,
        "attribution_kind": call.attribution_kind,
        "confidence": call.confidence,
        "caller_country": call.caller_country,
        "caller_region": call.caller_region,
        "tags": tags,
        "has_recording": has_recording,
    }


def list_calls(
    db: Session,
    project: Project,
    filters: CallFilters,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> CallPage:
    """One page of the project's calls matching `filters`, newest first, after `cursor`."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
    conditions = _conditions(project, filters)
    if cursor is not None:
        after = decode_cursor(cursor)
        conditions.append(
            or_(
                Call.started_at < after.started_at,
                and_(Call.started_at == after.started_at, Call.id < after.call_id),
            )
        )
    query = (
        select(Call)
        .where(*conditions)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit + 1)
    )
    calls = list(db.scalars(query))
    more = len(calls) > limit
    calls = calls[:limit]
    ids = [call.id for call in calls]
    tags, recorded = _tags_of(db, ids), _recorded(db, ids)
    items = [
        CallSummary(**_summary_values(call, tags.get(call.id, []), call.id in recorded))
        for call in calls
    ]
    next_cursor = None
    if more:
        last = calls[-1]
        next_cursor = encode_cursor(Position(last.started_at, last.id))
    return CallPage(items, next_cursor)


def get_call(db: Session, project: Project, call_id: int) -> CallDetail:
    """One of the project's calls with its attribution trace and events, or NotFound."""
    call = db.get(Call, call_id)
    if call is None or call.project_id != project.id:
        raise NotFound("no such call")
    events = db.scalars(
        select(CallEvent)
        .where(CallEvent.call_id == call.id)
        .order_by(CallEvent.occurred_at, CallEvent.id)
    )
    tags = _tags_of(db, [call.id]).get(call.id, [])
    return CallDetail(
        **_summary_values(call, tags, bool(_recorded(db, [call.id]))),
        attribution_reason=call.attribution_reason,
        candidates=list(call.candidates or []),
        snapshot=dict(call.snapshot or {}),
        visitor_id=call.visitor_id,
        visit_id=call.visit_id,
        first_call_id=call.first_call_id,
        lead_id=call.lead_id,
        provider=call.provider,
        provider_call_id=call.provider_call_id,
        forwarded_to=call.forwarded_to,
        events=[
            CallEventEntry(event.event_type, event.occurred_at, event.provider) for event in events
        ],
    )
