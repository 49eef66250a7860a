"""Reading calls: filters, newest-first keyset pages, and one call with its attribution trace.

Filters arrive as the API and dashboard receive them (text for the period and the phone
numbers); `list_calls` reads them in the project's time zone and default country and names
the filter in an InvalidInput when one cannot be read. Pages are ordered by
(`started_at`, `id`), newest first; the cursor is the position of the last call of a page,
so calls arriving meanwhile never shift a later page (no duplicates, no gaps).

The drill-down filters (`keyword`, `landing_page`, `caller_region`, `visitor_region`,
`origin`, `duration`, `hour_of_week`) take the values the report rows carry, so a report
row links to exactly the calls it counted. Text filters compare the value as reports keep
it: an empty string means "(not set)" (NULL or empty), and a value of the rollups' full
length (300 characters) matches every longer value it is the start of. Every filter is SQL,
so pages stay exact keyset pages; `hour_of_week` becomes one UTC range per week of the
period (the project's calls when no period is given), which keeps daylight-saving days
right on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ringtrail.domain.attribution import kinds_of
from ringtrail.domain.calls import CallStatus
from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.domain.privacy import mask_phone
from ringtrail.domain.reports.facts import DURATION_BUCKETS, NOT_ANSWERED_BUCKET, CallOrigin
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.reports.engine import visitor_region_column
from ringtrail.services.transcripts import transcript_contains
from ringtrail.storage.models import (
    Call,
    CallComment,
    CallEvent,
    CallScore,
    CallTag,
    Project,
    Recording,
    Tag,
    User,
    Visit,
)

DEFAULT_PAGE = 50
MAX_PAGE = 500
CALL_STATUSES = tuple(status.value for status in CallStatus)
_MAX_ID = 2**63 - 1
CALL_ORIGINS = tuple(origin.value for origin in CallOrigin)
DURATIONS = (*(label for label, _, _ in DURATION_BUCKETS), NOT_ANSWERED_BUCKET)
MAX_DIMENSION_LENGTH = 300
"""Report rollups cut dimension values to this length (services/reports/engine.py)."""
MAX_HOUR_RANGES = 2_000
"""An `hour_of_week` filter spanning more weeks than this needs a narrower period."""
MAX_SEARCH_LENGTH = 100
_HOUR_OF_WEEK = re.compile(r"([0-6])-([01][0-9]|2[0-3])")


@dataclass(frozen=True)
class CallFilters:
    """Which calls to list; every filter left as None (or empty) lets all calls through.

    `period_from` and `period_to` are ISO dates or datetimes: a date, or a datetime without
    an offset, is read in the project's time zone; `period_to` is exclusive. `statuses` and
    `tags` match a call with any of the values given. `number` is the dialled tracking
    number, `caller` the caller's number, both in any written form.

    Text dimensions (`source`, `medium`, `campaign`, `keyword`, `landing_page`,
    `caller_region`, `visitor_region`) match exactly; "" matches calls without the value.
    `origin` is a CallOrigin value, `duration` a DURATION_BUCKETS label or "not_answered",
    `hour_of_week` a heatmap cell "d-hh" (Monday = 0) in the project's local time. `search`
    finds the text in the caller's number (digits), source, campaign or keyword. `sources`
    and `campaigns` match any of their values (a report filtered to several), on top of
    `source` and `campaign`.
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
    keyword: str | None = None
    landing_page: str | None = None
    caller_region: str | None = None
    visitor_region: str | None = None
    origin: str | None = None
    duration: str | None = None
    hour_of_week: str | None = None
    search: str | None = None
    sources: Sequence[str] = ()
    transcript: str | None = None  # text said on the call (services/transcripts.py)
    campaigns: Sequence[str] = ()


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
    analytics_ids: dict[str, str]
    """The click and analytics ids of the call's visit (`ANALYTICS_IDS`), those it holds."""


@dataclass(frozen=True)
class CallEventEntry:
    """One provider event of a call."""

    type: str
    occurred_at: datetime
    provider: str


@dataclass(frozen=True)
class CallCommentEntry:
    """A note left on a call, with its author's name (None when the user is gone)."""

    id: int
    created_at: datetime
    user_id: int | None
    author: str | None
    body: str


@dataclass(frozen=True)
class CallScoreEntry:
    """One judgement of a call, oldest first: by a person ("user"), a rule or the model."""

    created_at: datetime
    scored_by: str
    label: str
    user_id: int | None
    score: float | None
    detail: str | None = None
    """The rule ("rule:3 Spam") or the model version that judged."""
    author: str | None = None
    """The person's name (or email) for a person's mark."""


@dataclass(frozen=True)
class CallTagEntry:
    """A tag on the call with who put it there ("user", "rule" or "model") and when."""

    name: str
    set_by: str
    set_at: datetime | None
    detail: str | None


@dataclass(frozen=True)
class CallDetail(CallSummary):
    """One call with its attribution trace, events, marks and comments in time order."""

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
    target_set_by: str | None = None
    deal_value: float | None = None
    events: list[CallEventEntry] = field(default_factory=list)
    comments: list[CallCommentEntry] = field(default_factory=list)
    scores: list[CallScoreEntry] = field(default_factory=list)
    target_set_at: datetime | None = None
    """When the mark that stands (`is_target`, set by `target_set_by`) was made."""
    tag_sources: list[CallTagEntry] = field(default_factory=list)
    callback_at: datetime | None = None
    """When a callback this call needed was settled (domain/callbacks.py), None while open."""
    callback_resolution: str | None = None
    callback_user_id: int | None = None
    callback_by: str | None = None
    """The name (or email) of the person who rang back, None when a call settled it."""
    callback_call_id: int | None = None


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


def _dimension(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], value: str
) -> ColumnElement[bool]:
    """`column` as reports read it (NULL is ""), equal to `value`; at full length, its start."""
    stored = func.coalesce(column, "")
    if len(value) >= MAX_DIMENSION_LENGTH:
        return func.substr(stored, 1, MAX_DIMENSION_LENGTH) == value[:MAX_DIMENSION_LENGTH]
    return stored == value


def _origin(value: str) -> ColumnElement[bool]:
    try:
        origin = CallOrigin(value)
    except ValueError as exc:
        raise InvalidInput("origin", f"must be one of: {', '.join(CALL_ORIGINS)}") from exc
    if origin is CallOrigin.UNKNOWN:
        # Words outside the vocabulary (none are written today) count as unknown, as in reports.
        placed = (*kinds_of(CallOrigin.AD), *kinds_of(CallOrigin.SITE))
        return not_(Call.attribution_kind.in_(placed))
    return Call.attribution_kind.in_(kinds_of(origin))


def _duration(value: str) -> ColumnElement[bool]:
    answered = Call.status == CallStatus.ANSWERED.value
    if value == NOT_ANSWERED_BUCKET:
        return not_(answered)
    for label, low, high in DURATION_BUCKETS:
        if label == value:
            talk = func.coalesce(Call.talk_seconds, 0)
            # Negative talk times count as 0 s, as domain/reports/facts.py `duration_bucket` does.
            bounds = [talk >= low] if low > 0 else []
            if high is not None:
                bounds.append(talk < high)
            return and_(answered, *bounds)
    raise InvalidInput("duration", f"must be one of: {', '.join(DURATIONS)}")


def _heatmap_cell(cell: str) -> tuple[int, int]:
    match = _HOUR_OF_WEEK.fullmatch(cell)
    if match is None:
        raise InvalidInput("hour_of_week", "must be <weekday 0-6>-<hour 00-23>, e.g. 0-09")
    return int(match.group(1)), int(match.group(2))


def hour_of_week_ranges(
    cell: str, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The UTC ranges within [start, end) whose local time falls in the heatmap cell `cell`.

    One range per week: local `hh:00` to the next hour on weekday `d`. Across a change to
    daylight saving time the missing hour gives an empty range (dropped); the repeated hour
    gives one range two hours long, as `facts.hour_of_week` counts both passes in it.
    """
    weekday, hour = _heatmap_cell(cell)
    day = start.astimezone(zone).date() - timedelta(days=1)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    ranges: list[tuple[datetime, datetime]] = []
    while True:
        low = datetime.combine(day, time(hour), zone).astimezone(UTC)
        if low >= end:
            return ranges
        next_hour = day + timedelta(days=1) if hour == 23 else day
        high = datetime.combine(next_hour, time((hour + 1) % 24), zone).astimezone(UTC)
        low, high = max(low, start), min(high, end)
        if low < high:
            ranges.append((low, high))
        if len(ranges) > MAX_HOUR_RANGES:
            raise InvalidInput("hour_of_week", "the period is too long: choose a shorter one")
        day += timedelta(days=7)


def _hour_of_week(
    db: Session,
    project: Project,
    cell: str,
    zone: zoneinfo.ZoneInfo,
    start: datetime | None,
    end: datetime | None,
) -> ColumnElement[bool]:
    if start is None or end is None:
        first, last = db.execute(
            select(func.min(Call.started_at), func.max(Call.started_at)).where(
                Call.project_id == project.id
            )
        ).one()
        if first is None or last is None:
            _heatmap_cell(cell)
            return false()
        start = start or first
        end = end or last + timedelta(seconds=1)
    ranges = hour_of_week_ranges(cell, zone, start, end)
    if not ranges:
        return false()
    return or_(*(and_(Call.started_at >= low, Call.started_at < high) for low, high in ranges))


def _search(text: str, *, by_caller: bool = True) -> ColumnElement[bool] | None:
    """Calls whose caller number holds the digits typed (unless `by_caller` is off), or whose
    source, campaign or keyword holds the text (case-insensitive; SQLite folds ASCII letters
    only)."""
    text = text.replace("\x00", "").strip()[:MAX_SEARCH_LENGTH]
    if not text:
        return None
    matches = [
        func.lower(column).contains(text.lower(), autoescape=True)
        for column in (Call.source, Call.campaign, Call.keyword)
    ]
    digits = "".join(char for char in text if char.isdigit())
    if by_caller and len(digits) >= 3 and len(digits) * 2 >= len(text.replace(" ", "")):
        matches.append(Call.caller_e164.contains(digits, autoescape=True))
    return or_(*matches)


def _conditions(
    db: Session, project: Project, filters: CallFilters, *, by_caller: bool = True
) -> list[ColumnElement[bool]]:
    """The SQL conditions for `filters`, or InvalidInput naming the filter that cannot be read.

    Without `by_caller` (a role that sees callers' numbers masked) the caller filter is
    refused and the search leaves callers' numbers alone: matching digits one query at a time
    would otherwise reveal the masked part.
    """
    if not by_caller and filters.caller is not None:
        raise InvalidInput("caller", "your role may not look calls up by the caller's number")
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
    for column, value in ((Call.dialled_e164, number), (Call.caller_e164, caller)):
        if value is not None:
            conditions.append(column == value)
    for dimension, text in (
        (Call.source, filters.source),
        (Call.medium, filters.medium),
        (Call.campaign, filters.campaign),
        (Call.keyword, filters.keyword),
        (Call.landing_page, filters.landing_page),
        (Call.caller_region, filters.caller_region),
        (visitor_region_column(), filters.visitor_region),
    ):
        if text is not None:
            conditions.append(_dimension(dimension, text))
    for dimension, texts in ((Call.source, filters.sources), (Call.campaign, filters.campaigns)):
        if texts:
            conditions.append(or_(*(_dimension(dimension, text) for text in sorted(set(texts)))))
    if filters.first_time is False:
        # As reports count it: a call whose standing is unknown (no caller id) is not first-time.
        conditions.append(or_(Call.is_first_time.is_(False), Call.is_first_time.is_(None)))
    for flag_column, flag in (
        (Call.is_first_time, True if filters.first_time else None),
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
    if filters.origin is not None:
        conditions.append(_origin(filters.origin))
    if filters.duration is not None:
        conditions.append(_duration(filters.duration))
    if filters.hour_of_week is not None:
        conditions.append(_hour_of_week(db, project, filters.hour_of_week, zone, start, end))
    if filters.search is not None:
        found = _search(filters.search, by_caller=by_caller)
        if found is not None:
            conditions.append(found)
    if filters.transcript is not None:
        said = transcript_contains(filters.transcript)
        if said is not None:
            conditions.append(said)
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


ANALYTICS_IDS: tuple[str, ...] = (
    "gclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "yclid",
    "msclkid",
    "ttclid",
    "ga_client_id",
    "ga_session_id",
    "fbp",
    "fbc",
    "ym_uid",
)
"""The ad click ids and analytics cookies a call's visit may hold, in the order lists show."""


def _analytics_of(db: Session, calls: Iterable[Call]) -> dict[int, dict[str, str]]:
    """The non-empty `ANALYTICS_IDS` of each call's visit, by call id (one query)."""
    visit_of = {call.id: call.visit_id for call in calls if call.visit_id is not None}
    if not visit_of:
        return {}
    columns = [getattr(Visit, name) for name in ANALYTICS_IDS]
    rows = db.execute(select(Visit.id, *columns).where(Visit.id.in_(set(visit_of.values()))))
    by_visit = {
        row[0]: {name: value for name, value in zip(ANALYTICS_IDS, row[1:], strict=True) if value}
        for row in rows
    }
    return {call_id: by_visit.get(visit_id, {}) for call_id, visit_id in visit_of.items()}


def _summary_values(
    call: Call,
    tags: list[str],
    has_recording: bool,
    mask_callers: bool = False,
    analytics_ids: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The one place a stored call becomes what the API shows."""
    return {
        "id": call.id,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.duration_seconds,
        "talk_seconds": call.talk_seconds,
        "status": call.status,
        "caller": mask_phone(call.caller_e164) if mask_callers else call.caller_e164,
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
        "analytics_ids": dict(analytics_ids or {}),
    }


def list_calls(
    db: Session,
    project: Project,
    filters: CallFilters,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
    mask_callers: bool = False,
) -> CallPage:
    """One page of the project's calls matching `filters`, newest first, after `cursor`.

    `mask_callers` hides the middle of callers' numbers (roles that may not see them)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
    conditions = _conditions(db, project, filters, by_caller=not mask_callers)
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
    analytics = _analytics_of(db, calls)
    items = [
        CallSummary(
            **_summary_values(
                call,
                tags.get(call.id, []),
                call.id in recorded,
                mask_callers,
                analytics.get(call.id),
            )
        )
        for call in calls
    ]
    next_cursor = None
    if more:
        last = calls[-1]
        next_cursor = encode_cursor(Position(last.started_at, last.id))
    return CallPage(items, next_cursor)


def iter_calls(
    db: Session, project: Project, filters: CallFilters, *, limit: int, mask_callers: bool = False
) -> Iterator[CallSummary]:
    """Up to `limit` of the project's calls matching `filters`, newest first (for exports)."""
    cursor = None
    left = limit
    while left > 0:
        page = list_calls(
            db,
            project,
            filters,
            cursor=cursor,
            limit=min(MAX_PAGE, left),
            mask_callers=mask_callers,
        )
        yield from page.items
        left -= len(page.items)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _user_name(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return (user.name or user.email) if user is not None else None


def get_call(
    db: Session, project: Project, call_id: int, *, mask_callers: bool = False
) -> CallDetail:
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
    comments = db.execute(
        select(CallComment, User.name, User.email)
        .outerjoin(User, User.id == CallComment.user_id)
        .where(CallComment.call_id == call.id)
        .order_by(CallComment.created_at, CallComment.id)
    )
    scores = [
        CallScoreEntry(
            score.created_at, score.scored_by, score.label, score.user_id, score.score,
            score.model_version, name or email,
        )
        for score, name, email in db.execute(
            select(CallScore, User.name, User.email)
            .outerjoin(User, User.id == CallScore.user_id)
            .where(CallScore.call_id == call.id)
            .order_by(CallScore.created_at, CallScore.id)
        )
    ]  # fmt: skip
    return CallDetail(
        **_summary_values(
            call,
            tags,
            bool(_recorded(db, [call.id])),
            mask_callers,
            _analytics_of(db, [call]).get(call.id),
        ),
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
        target_set_by=call.target_set_by,
        deal_value=call.deal_value,
        callback_at=call.callback_at,
        callback_resolution=call.callback_resolution,
        callback_user_id=call.callback_user_id,
        callback_by=_user_name(db, call.callback_user_id),
        callback_call_id=call.callback_call_id,
        events=[
            CallEventEntry(event.event_type, event.occurred_at, event.provider) for event in events
        ],
        comments=[
            CallCommentEntry(
                comment.id, comment.created_at, comment.user_id, name or email, comment.body
            )
            for comment, name, email in comments
        ],
        scores=scores,
        target_set_at=_target_set_at(call, scores),
        tag_sources=[
            CallTagEntry(name, set_by, set_at, detail)
            for name, set_by, set_at, detail in db.execute(
                select(Tag.name, CallTag.set_by, CallTag.set_at, CallTag.set_detail)
                .join(Tag, Tag.id == CallTag.tag_id)
                .where(CallTag.call_id == call.id)
                .order_by(Tag.name)
            )
        ],
    )


def _target_set_at(call: Call, scores: list[CallScoreEntry]) -> datetime | None:
    """When the standing mark was made: the latest score by its judge with its label."""
    if call.is_target is None:
        return None
    label = "target" if call.is_target else "non_target"
    for score in reversed(scores):
        if score.scored_by == (call.target_set_by or "user") and score.label == label:
            return score.created_at
    return None
