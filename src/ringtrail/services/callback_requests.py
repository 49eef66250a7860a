"""Callback requests from the widget: accepting one, when it is due, and the sales worklist.

`request_callback` runs the anti-abuse guard (services.lead_guard), records a `callback` lead
attributed to the visitor's session (services.leads) and stores the request, due now inside
the project's working hours or at their next opening outside them. A repeated request (same
number within the lead window) is the existing request: no second lead, no second call.

A request moves `waiting` → `calling` (a worker claimed it: services.callback_calls places
the call) → `connected`, or back to `waiting` for another attempt, or `unreached` when the
attempts ran out; a person may mark it `done` or have it rung at once from the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.callback_widget import (
    CONFIG_KEY,
    LANGUAGES,
    Outcome,
    WidgetSettings,
    WidgetSettingsError,
    checked_settings,
    next_opening,
    when_to_call,
)
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.lead_guard import LeadGuard
from ringtrail.services.leads import record_lead
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.storage.models import CallbackRequest, Project

OPEN_STATUSES = ("waiting", "calling", "unreached")
"""What the sales worklist shows: requests nobody has settled yet."""
STATUSES = ("waiting", "calling", "connected", "unreached", "done")
MAX_URL = 2000


class WidgetDisabled(Exception):
    """The project has no callback widget switched on."""


@dataclass(frozen=True)
class CallbackAccepted:
    """An accepted request: whether it is rung now, else when; False `created` for a repeat."""

    request: CallbackRequest
    call_now: bool
    due_at: datetime | None
    created: bool


def project_zone(project: Project) -> ZoneInfo:
    """The project's time zone (UTC when it names none known)."""
    try:
        return ZoneInfo(project.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def request_callback(
    session: Session,
    project: Project,
    *,
    guard: LeadGuard,
    signer: TokenSigner,
    phone: str | None,
    honeypot: str | None,
    visitor_token: str | None,
    address: str,
    language: str,
    now: datetime,
    page_url: str = "",
    user_agent: str = "",
    request_key: str | None = None,
) -> CallbackAccepted:
    """Accept a callback request (see the module's docstring); raises `WidgetDisabled` or
    `domain.lead_guard.Refused`. The caller commits."""
    settings = WidgetSettings.of(project.extra)
    if not settings.enabled:
        raise WidgetDisabled("the callback widget is off for this project")
    e164 = guard.check(
        session,
        project,
        limits=settings.limits,
        address=address,
        visitor=visitor_token,
        phone=phone,
        honeypot=honeypot,
        now=now,
        page_url=page_url,
        user_agent=user_agent,
    )
    assert e164 is not None  # a callback request always needs a number
    outcome = record_lead(
        session,
        project,
        kind="callback",
        visitor_token=visitor_token,
        phone=e164,
        dedupe_key=request_key,
        now=now,
        signer=signer,
        payload={"page_url": page_url[:MAX_URL]} if page_url else None,
    )
    existing = session.scalars(
        select(CallbackRequest).where(CallbackRequest.lead_id == outcome.lead.id)
    ).first()
    if existing is not None:
        return CallbackAccepted(existing, False, existing.due_at, False)
    due_at, call_now = when_to_call(settings.hours, now, project_zone(project))
    request = CallbackRequest(
        project_id=project.id,
        lead_id=outcome.lead.id,
        phone_e164=e164,
        language=language if language in LANGUAGES else "en",
        requested_at=now,
        status="waiting",
        due_at=due_at,
        scheduled=not call_now,
        attempts=0,
        page_url=page_url[:MAX_URL] or None,
        payload={},
        created_at=now,
    )
    session.add(request)
    session.flush()
    return CallbackAccepted(request, call_now, due_at, True)


def after_attempt(
    request: CallbackRequest,
    outcome: Outcome | str,
    settings: WidgetSettings,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    """Where a request goes once an attempt ended: connected, another try later (within the
    working hours), or unreached once `max_attempts` were made."""
    request.last_outcome = str(outcome)
    request.claimed_until = None
    if outcome == Outcome.CONNECTED:
        request.status = "connected"
        request.due_at = None
        return
    extra = int((request.payload or {}).get("extra_attempts", 0))
    if request.attempts >= settings.max_attempts + extra:
        request.status = "unreached"
        request.due_at = None
        return
    retry = now + timedelta(minutes=settings.retry_minutes)
    due, _open = when_to_call(settings.hours, retry, zone)
    request.status = "waiting"
    request.due_at = due


def list_requests(
    session: Session,
    project: Project,
    *,
    statuses: Sequence[str] = OPEN_STATUSES,
    limit: int = 200,
) -> list[CallbackRequest]:
    """The project's requests in `statuses`, those due first, then the newest."""
    return list(
        session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.project_id == project.id, CallbackRequest.status.in_(statuses))
            .order_by(CallbackRequest.requested_at.desc(), CallbackRequest.id.desc())
            .limit(limit)
        )
    )


def get_request(session: Session, project: Project, request_id: int) -> CallbackRequest:
    """The project's request `request_id`; NotFound otherwise."""
    request = session.get(CallbackRequest, request_id)
    if request is None or request.project_id != project.id:
        raise NotFound("no such callback request")
    return request


def mark_done(
    session: Session, project: Project, request_id: int, user_id: int | None, now: datetime
) -> CallbackRequest:
    """A person settled the request (rang them from a desk phone, or it was spam)."""
    request = get_request(session, project, request_id)
    if request.status == "calling":
        raise InvalidInput("status", "a call is under way; wait for it to end")
    request.status = "done"
    request.due_at = None
    request.handled_at = now
    request.handled_by = user_id
    return request


def call_now(
    session: Session, project: Project, request_id: int, user_id: int | None, now: datetime
) -> CallbackRequest:
    """Ring the request back at the next pass of the worker, whatever the working hours
    (a person asked for it); one more attempt is allowed when the attempts ran out."""
    request = get_request(session, project, request_id)
    if request.status in ("calling", "connected"):
        raise InvalidInput("status", f"the request is {request.status}")
    request.status = "waiting"
    request.due_at = now
    request.scheduled = False
    request.handled_by = user_id
    payload = dict(request.payload or {})
    payload["extra_attempts"] = int(payload.get("extra_attempts", 0)) + 1
    request.payload = payload
    return request


def next_call_time(project: Project, now: datetime) -> datetime | None:
    """When the project's working hours next open (for texts: "we will call at ...")."""
    settings = WidgetSettings.of(project.extra)
    return next_opening(settings.hours, now, project_zone(project))


def set_widget_settings(
    session: Session, project: Project, raw: dict[str, object]
) -> WidgetSettings:
    """Validate and store the widget's settings (`extra["callback_widget"]`); InvalidInput
    names the first setting that is wrong. The caller commits."""
    try:
        settings = checked_settings(raw, project.default_country)
    except WidgetSettingsError as exc:
        raise InvalidInput(exc.field, exc.problem) from None
    project.extra = {**(project.extra or {}), CONFIG_KEY: settings.to_json()}
    return settings
