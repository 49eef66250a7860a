"""Calling back: placing each attempt through Twilio and recording how it went.

`place_due_callbacks` (the jobs runner, and the widget's request right away) claims due
requests one by one with a conditional UPDATE, so two workers never ring the same request,
and places a call to the business line (telephony.twilio_outbound). Each attempt is an
outbound row in `calls` (`direction` `outbound`, provider `twilio`, the Twilio CallSid,
`dialled_e164` the customer, `forwarded_to` the business line, the lead and its attribution
copied), so the calls log lists it and recordings are fetched like any call's.

Twilio's callbacks (web/hooks/twilio_callbacks.py) come here:
- the business leg's status: `in-progress` is the business answering; its end settles the
  attempt (domain.callback_widget.attempt_outcome): business did not answer, customer did
  not answer, connected, or failed;
- the customer's `<Number>` status: `in-progress` is the customer answering, which ends the
  "seconds to connect" counted from the request;
- the Dial action: the customer leg's outcome and talk time (and the recording);
- the recording callback: the recording to fetch.

A placing error Twilio may recover from (429, 5xx, network) puts the request back to be
tried again a minute later; a refusal (an invalid number) ends the attempt as failed. A
claim whose call never reported back within `STALE_CALL` is settled as failed, so nothing
stays `calling` for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.domain.callback_widget import (
    CALL_STATUS,
    SAY_LANGUAGES,
    Outcome,
    WidgetSettings,
    attempt_outcome,
    seconds_between,
)
from ringtrail.domain.lead_guard import Refused, check_daily_calls
from ringtrail.services.callback_requests import after_attempt, project_zone
from ringtrail.services.telephony_accounts import account_of_project
from ringtrail.storage.models import (
    Call,
    CallbackRequest,
    Lead,
    Project,
    Recording,
    TelephonyAccount,
    TrackingNumber,
)
from ringtrail.telephony import twilio
from ringtrail.telephony.twilio_outbound import (
    CallbackUrls,
    OutboundCaller,
    PlacingFailed,
    callback_twiml,
)

log = logging.getLogger(__name__)

PROVIDER = "twilio"
CLAIM = timedelta(minutes=2)
"""How long a worker holds a request while it asks Twilio to place the call."""
STALE_CALL = timedelta(minutes=30)
"""A placed call that never reported its end is settled as failed after this long."""
TRANSIENT_RETRY = timedelta(minutes=1)
DAY = timedelta(days=1)
ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
MAX_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class PlaceReport:
    """What one pass did."""

    placed: int = 0
    retried: int = 0
    failed: int = 0
    settled_stale: int = 0


def place_due_callbacks(
    sessions: sessionmaker[Session],
    caller: OutboundCaller,
    public_url: str,
    now: datetime,
    *,
    limit: int = 20,
    only: int | None = None,
) -> PlaceReport:
    """Place the calls of requests due by `now` (at most `limit`; `only`: that request)."""
    placed = retried = failed = 0
    settled = _settle_stale(sessions, now)
    for request_id in _due_ids(sessions, now, limit, only):
        if not _claim(sessions, request_id, now):
            continue
        result = _place(sessions, caller, public_url, request_id, now)
        placed += result == "placed"
        retried += result == "retried"
        failed += result == "failed"
    return PlaceReport(placed, retried, failed, settled)


def _due_ids(
    sessions: sessionmaker[Session], now: datetime, limit: int, only: int | None
) -> list[int]:
    with sessions() as session:
        query = (
            select(CallbackRequest.id)
            .where(
                CallbackRequest.status == "waiting",
                CallbackRequest.due_at.is_not(None),
                CallbackRequest.due_at <= now,
            )
            .order_by(CallbackRequest.due_at, CallbackRequest.id)
            .limit(limit)
        )
        if only is not None:
            query = query.where(CallbackRequest.id == only)
        return list(session.scalars(query))


def _claim(sessions: sessionmaker[Session], request_id: int, now: datetime) -> bool:
    """Move the request to `calling` if it is still due and unclaimed (one statement)."""
    with sessions() as session:
        result = session.execute(
            update(CallbackRequest)
            .where(
                CallbackRequest.id == request_id,
                CallbackRequest.status == "waiting",
                CallbackRequest.due_at <= now,
            )
            .values(
                status="calling",
                claimed_until=now + CLAIM,
                attempts=CallbackRequest.attempts + 1,
            )
        )
        session.commit()
        return bool(getattr(result, "rowcount", 0))


def _place(
    sessions: sessionmaker[Session],
    caller: OutboundCaller,
    public_url: str,
    request_id: int,
    now: datetime,
) -> str:
    with sessions() as session:
        request = session.get(CallbackRequest, request_id)
        if request is None:
            return "failed"
        project = session.get(Project, request.project_id)
        assert project is not None
        settings = WidgetSettings.of(project.extra)
        zone = project_zone(project)
        account = account_of_project(session, project, PROVIDER)
        business = settings.business_number or project.main_number
        from_number = settings.caller_id or _twilio_number(session, project)
        base = str((request.payload or {}).get("callback_base") or public_url)
        problem = None
        if not base:
            problem = "RINGTRAIL_PUBLIC_URL is not set: Twilio could not report the call"
        elif account is None or not account.account_ref or not account.secret:
            problem = "the project has no active Twilio account with an auth token"
        elif not business:
            problem = "no business number to ring (set it in the widget settings)"
        elif not from_number:
            problem = "no Twilio number to call from (set the caller ID in the widget settings)"
        if problem is None:
            try:
                check_daily_calls(
                    _calls_today(session, project.id, request.phone_e164, now),
                    settings.limits.calls_per_number_per_day,
                )
            except Refused as refused:
                problem = f"not called: {refused}"
        if problem is not None:
            request.last_error = problem
            request.status = "unreached"
            request.last_outcome = Outcome.FAILED.value
            request.claimed_until = None
            request.due_at = None
            session.commit()
            log.warning("callback request %s not placed: %s", request.id, problem)
            return "failed"
        assert account is not None and business and from_number
        urls = _urls(base)
        language = request.language
        announcement = settings.text(language, "announcement").replace(
            "{phone}", _spoken(request.phone_e164)
        )
        try:
            twiml = callback_twiml(
                announcement=announcement,
                language=SAY_LANGUAGES.get(language, "en-US"),
                customer=request.phone_e164,
                caller_id=from_number,
                urls=urls,
            )
            sid = caller.create_call(
                str(account.account_ref),
                str(account.secret),
                to=business,
                from_=from_number,
                twiml=twiml,
                status_callback=urls.business_status,
            )
        except PlacingFailed as exc:
            request.last_error = str(exc)[:2000]
            if exc.transient:
                request.status = "waiting"
                request.attempts = max(0, request.attempts - 1)
                request.due_at = now + TRANSIENT_RETRY
                request.claimed_until = None
                session.commit()
                log.warning("callback request %s: %s; retrying", request.id, exc)
                return "retried"
            after_attempt(request, Outcome.FAILED, settings, zone, now)
            session.commit()
            log.warning("callback request %s: %s", request.id, exc)
            return "failed"
        call = _outbound_call(session, project, request, sid, business, from_number, now)
        request.call_id = call.id
        request.claimed_until = now + STALE_CALL
        request.last_error = None
        session.commit()
        return "placed"


def _urls(public_url: str) -> CallbackUrls:
    base = public_url.rstrip("/") + "/hooks/twilio/callback"
    return CallbackUrls(
        business_status=f"{base}/status",
        dial_done=f"{base}/dial-done",
        customer_status=f"{base}/customer-status",
        recording=f"{base}/recording",
    )


def _spoken(e164: str) -> str:
    """A number read digit by digit by text-to-speech."""
    return " ".join(e164.lstrip("+"))


def _twilio_number(session: Session, project: Project) -> str | None:
    """A tracking number of the project to call from, when the widget names none."""
    return session.scalars(
        select(TrackingNumber.e164)
        .where(TrackingNumber.project_id == project.id)
        .order_by(TrackingNumber.id)
        .limit(1)
    ).first()


def _calls_today(session: Session, project_id: int, phone: str, now: datetime) -> int:
    """Outbound callback calls of the project to `phone` in the 24 hours before `now`."""
    count = session.scalar(
        select(func.count())
        .select_from(Call)
        .where(
            Call.project_id == project_id,
            Call.direction == "outbound",
            Call.dialled_e164 == phone,
            Call.started_at > now - DAY,
        )
    )
    return int(count or 0)


def _outbound_call(
    session: Session,
    project: Project,
    request: CallbackRequest,
    sid: str,
    business: str,
    from_number: str,
    now: datetime,
) -> Call:
    lead = session.get(Lead, request.lead_id) if request.lead_id else None
    call = Call(
        project_id=project.id,
        provider=PROVIDER,
        provider_call_id=sid,
        direction="outbound",
        caller_e164=from_number,
        dialled_e164=request.phone_e164,
        forwarded_to=business,
        started_at=now,
        status="in_progress",
        lead_id=request.lead_id,
        visitor_id=lead.visitor_id if lead else None,
        visit_id=lead.visit_id if lead else None,
        source=lead.source if lead else None,
        medium=lead.medium if lead else None,
        campaign=lead.campaign if lead else None,
        attribution_kind="session" if lead and lead.visit_id else "unattributed",
        attribution_reason="a callback the visitor requested from the widget",
        confidence=1.0 if lead and lead.visit_id else 0.0,
        candidates=[],
        snapshot={
            "callback": {
                "request_id": request.id,
                "attempt": request.attempts,
                "requested_at": request.requested_at.isoformat(),
            }
        },
        created_at=now,
    )
    session.add(call)
    session.flush()
    return call


def _settle_stale(sessions: sessionmaker[Session], now: datetime) -> int:
    """Requests stuck in `calling`: a claim that ran out before a call was placed goes back
    to `waiting`; a call that never reported its end is settled as failed."""
    settled = 0
    with sessions() as session:
        stuck = session.scalars(
            select(CallbackRequest).where(
                CallbackRequest.status == "calling",
                or_(CallbackRequest.claimed_until.is_(None), CallbackRequest.claimed_until < now),
            )
        ).all()
        for request in stuck:
            project = session.get(Project, request.project_id)
            if project is None:
                continue
            call = session.get(Call, request.call_id) if request.call_id else None
            placed_now = call is not None and _attempt_of(call) == request.attempts
            if not placed_now:
                request.status = "waiting"
                request.attempts = max(0, request.attempts - 1)
                request.due_at = now
                request.claimed_until = None
                continue
            assert call is not None
            _finish(session, project, request, call, Outcome.FAILED, now)
            settled += 1
        session.commit()
    return settled


def _attempt_of(call: Call) -> int | None:
    value = (call.snapshot or {}).get("callback", {}).get("attempt")
    return int(value) if value is not None else None


# --- Twilio's callbacks ------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackCall:
    """The outbound call a Twilio callback is about, and the auth token that signs it."""

    call_id: int
    project_id: int
    auth_token: str | None


def find_callback_call(session: Session, call_sid: str) -> CallbackCall | None:
    """The outbound callback call Twilio names by its CallSid (the business leg's)."""
    call = session.scalars(
        select(Call).where(
            Call.provider == PROVIDER,
            Call.provider_call_id == call_sid,
            Call.direction == "outbound",
        )
    ).first()
    if call is None or call.project_id is None:
        return None
    account = session.scalars(
        select(TelephonyAccount).where(
            TelephonyAccount.project_id == call.project_id,
            TelephonyAccount.provider == PROVIDER,
            TelephonyAccount.is_active.is_(True),
        )
    ).first()
    return CallbackCall(call.id, call.project_id, account.secret if account else None)


def _moment(params: Mapping[str, str], received_at: datetime) -> datetime:
    raw = params.get("Timestamp", "").strip()
    if not raw:
        return received_at
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return received_at
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _seconds(raw: str) -> int | None:
    """A whole number of seconds from a callback field (None unless one; capped at a week)."""
    text = raw.strip()
    return min(int(text), MAX_SECONDS) if text.isdigit() else None


def _facts(call: Call) -> dict[str, Any]:
    return dict((call.snapshot or {}).get("callback", {}))


def _keep(call: Call, facts: Mapping[str, Any]) -> None:
    call.snapshot = {**(call.snapshot or {}), "callback": dict(facts)}


def on_business_status(
    session: Session, call_id: int, params: Mapping[str, str], received_at: datetime
) -> None:
    """The business leg's status callback (see the module's docstring)."""
    call = session.get(Call, call_id)
    if call is None:
        return
    status = params.get("CallStatus", "").strip()
    moment = _moment(params, received_at)
    facts = _facts(call)
    if status == "in-progress" and "business_answered_at" not in facts:
        facts["business_answered_at"] = moment.isoformat()
        _keep(call, facts)
    if status not in ENDED:
        return
    facts["business_status"] = status
    _keep(call, facts)
    call.ended_at = moment
    duration = _seconds(params.get("CallDuration", ""))
    if duration is not None:
        call.duration_seconds = duration
    outcome = attempt_outcome(status, facts.get("customer_status"))
    _settle(session, call, outcome or Outcome.FAILED, moment)


def on_customer_status(
    session: Session, call_id: int, params: Mapping[str, str], received_at: datetime
) -> None:
    """The customer's `<Number>` status callback: its answer is the moment of connection."""
    call = session.get(Call, call_id)
    if call is None:
        return
    status = params.get("CallStatus", "").strip()
    facts = _facts(call)
    if status == "in-progress" and "customer_answered_at" not in facts:
        moment = _moment(params, received_at)
        facts["customer_answered_at"] = moment.isoformat()
        _keep(call, facts)
        call.answered_at = moment


def on_dial_done(
    session: Session, call_id: int, params: Mapping[str, str], received_at: datetime
) -> None:
    """The Dial action: the customer leg's outcome, talk time and recording."""
    call = session.get(Call, call_id)
    if call is None:
        return
    dial_status = params.get("DialCallStatus", "").strip()
    facts = _facts(call)
    facts["customer_status"] = dial_status
    talk = _seconds(params.get("DialCallDuration", ""))
    if dial_status in ("completed", "answered") and talk is not None:
        call.talk_seconds = talk
        if "customer_answered_at" not in facts:
            # No <Number> answer reported: the talk ended now and lasted this long.
            answered = received_at - timedelta(seconds=talk)
            facts["customer_answered_at"] = answered.isoformat()
            call.answered_at = answered
    elif dial_status:
        call.talk_seconds = 0
    _keep(call, facts)
    if params.get("RecordingUrl"):
        on_recording(session, call_id, params, received_at)


def on_recording(
    session: Session, call_id: int, params: Mapping[str, str], received_at: datetime
) -> None:
    """A finished recording of the talk: queued for the fetch job (once per URL)."""
    call = session.get(Call, call_id)
    url = params.get("RecordingUrl", "").strip()
    if call is None or not url or params.get("RecordingStatus", "completed") != "completed":
        return
    media = twilio.recording_media_url(url)
    known = session.scalar(
        select(func.count())
        .select_from(Recording)
        .where(Recording.call_id == call.id, Recording.provider_url == media)
    )
    if known:
        return
    project = session.get(Project, call.project_id) if call.project_id else None
    days = project.recording_retention_days if project else 365
    duration = _seconds(params.get("RecordingDuration", ""))
    session.add(
        Recording(
            call_id=call.id,
            provider_url=media,
            status="pending",
            duration_seconds=duration,
            attempts=0,
            next_attempt_at=received_at,
            delete_after=None if days is None else call.started_at + timedelta(days=days),
            created_at=received_at,
        )
    )


def _settle(session: Session, call: Call, outcome: Outcome, moment: datetime) -> None:
    """The attempt ended: the call's status and the request's next step (once)."""
    facts = _facts(call)
    if facts.get("outcome"):
        return
    request = session.get(CallbackRequest, facts.get("request_id")) if facts else None
    project = session.get(Project, call.project_id) if call.project_id else None
    if request is None or project is None:
        call.status = CALL_STATUS[outcome]
        facts["outcome"] = outcome.value
        _keep(call, facts)
        return
    _finish(session, project, request, call, outcome, moment)


def _finish(
    session: Session,
    project: Project,
    request: CallbackRequest,
    call: Call,
    outcome: Outcome,
    moment: datetime,
) -> None:
    facts = _facts(call)
    facts["outcome"] = outcome.value
    call.status = CALL_STATUS[outcome]
    if call.ended_at is None:
        call.ended_at = moment
    if outcome == Outcome.CONNECTED:
        answered = call.answered_at or moment
        seconds = seconds_between(request.requested_at, answered)
        facts["seconds_to_connect"] = seconds
        request.connected_at = answered
        request.seconds_to_connect = seconds
        request.talk_seconds = call.talk_seconds
    else:
        call.talk_seconds = call.talk_seconds or 0
    _keep(call, facts)
    if request.call_id == call.id and request.status == "calling":
        settings = WidgetSettings.of(project.extra)
        after_attempt(request, outcome, settings, project_zone(project), moment)


def callback_stats_condition(project_id: int, start: datetime, end: datetime) -> Any:
    """The requests of a project made in [start, end) (for reports)."""
    return and_(
        CallbackRequest.project_id == project_id,
        CallbackRequest.requested_at >= start,
        CallbackRequest.requested_at < end,
    )
