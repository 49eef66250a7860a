"""Twilio Voice webhooks under /hooks/twilio: answer calls with TwiML and take in their events.

Every request is signed (`X-Twilio-Signature`) with the auth token of the account its
`AccountSid` names; the project is that account's. An unknown account, a missing or wrong
signature, or a signed request replayed with other fields is refused with 403 before
anything is read or written. The signature covers the public URL Twilio called, rebuilt as
`RINGTRAIL_PUBLIC_URL` + path + query when set, else from X-Forwarded-Proto/-Host, else the
request's own URL.

The call path (`/voice`, `/dial-done`) always answers TwiML once the request is proven:
- `/voice` forwards to the route's line (services.call_routing) and records the talk; the
  `started` event is written after the answer, in the background, so a slow or broken
  database never delays or drops the call (the status callbacks bring the call in later).
  If the database cannot even be read to check the signature, the last route this process
  saw for that account and number is used; with none, 503 sends Twilio to the number's
  fallback URL (docs/telephony/twilio.md).
- `/dial-done` hangs up; its event is written in the background too, because an error
  answer would make Twilio read an error message to a caller who may still be listening.
The event callbacks (`/status`, `/recording`) answer 204 once stored, 400 with a reason when
malformed, and 503 when the database is down, so a retry brings the event in again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.calls import CallEvent
from ringtrail.services.call_routing import (
    KnownRoute,
    LastKnownRoutes,
    Route,
    RouteReason,
    route_call,
)
from ringtrail.services.telephony_accounts import accounts_by_ref
from ringtrail.storage.models import Project
from ringtrail.telephony import twilio
from ringtrail.telephony.errors import BadSignature, InvalidPayload
from ringtrail.web.deps import get_runtime
from ringtrail.web.errors import DATABASE_UNAVAILABLE
from ringtrail.web.hooks.common import ingest_events, parse_events, read_form

router = APIRouter(prefix="/twilio")
log = logging.getLogger(__name__)

TWIML = "application/xml"


@dataclass(frozen=True)
class TwilioTarget:
    """What a webhook needs from the database: the account's token, project and route."""

    project_id: int
    auth_token: str | None
    route: Route | None


@dataclass(frozen=True)
class TwilioRequest:
    """A webhook's form fields: every value (for the signature) and the first of each."""

    fields: dict[str, list[str]]
    params: dict[str, str]


def _find_target(
    request: Request, form: TwilioRequest, account_sid: str, dialled: str | None
) -> TwilioTarget | None:
    """The target of `account_sid`, routing `dialled` when given; None for unknown accounts.

    An AccountSid is no secret and several projects may name it: the request is the project's
    whose stored auth token signs it (preferring, among several, the one tracking `dialled`),
    so naming someone else's AccountSid gets a project nothing. When no token signs it the
    oldest account is returned and `_verify` refuses the request.
    """
    with get_runtime(request).sessions() as db:
        accounts = accounts_by_ref(db, twilio.PROVIDER, account_sid)
        signing = [a for a in accounts if _signed_by(request, form, a.secret)] or accounts[:1]
        for account in signing:
            route = None
            if dialled is not None:
                route = route_call(db, dialled, project=db.get(Project, account.project_id))
            if route is None or route.tracking_number_id is not None or account is signing[-1]:
                return TwilioTarget(account.project_id, account.secret, route)
        return None


def public_request_url(request: Request) -> str:
    """The URL Twilio signed: the public base, then this request's path and query."""
    query = request.url.query
    return _public_base(request) + request.url.path + (f"?{query}" if query else "")


def _public_base(request: Request) -> str:
    configured = get_runtime(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    proto = _first_hop(request.headers.get("x-forwarded-proto"))
    host = _first_hop(request.headers.get("x-forwarded-host"))
    return f"{proto or request.url.scheme}://{host or request.url.netloc}"


def _first_hop(header: str | None) -> str | None:
    """The client-facing proxy's value of a comma-separated X-Forwarded-* header."""
    value = (header or "").split(",", 1)[0].strip()
    return value or None


def _callback_url(request: Request, name: str) -> str:
    return _public_base(request) + str(request.app.url_path_for(name))


def _route_memory(request: Request) -> LastKnownRoutes:
    state = request.app.state
    memory: LastKnownRoutes | None = getattr(state, "twilio_routes", None)
    if memory is None:
        memory = state.twilio_routes = LastKnownRoutes()
    return memory


def _refused(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


async def _read_form(request: Request) -> TwilioRequest:
    fields: dict[str, list[str]] = {}
    for name, value in await read_form(request):
        fields.setdefault(name, []).append(value)
    return TwilioRequest(fields, {name: values[0] for name, values in fields.items()})


def _signed_by(request: Request, form: TwilioRequest, auth_token: str | None) -> bool:
    try:
        _verify(request, form, TwilioTarget(0, auth_token, None))
    except BadSignature:
        return False
    return True


def _verify(request: Request, form: TwilioRequest, target: TwilioTarget) -> None:
    twilio.check_signature(
        target.auth_token,
        public_request_url(request),
        form.fields,
        request.headers.get(twilio.SIGNATURE_HEADER),
        signature_settings=request.headers.get(twilio.SIGNATURE_SETTINGS_HEADER),
    )


async def _ingest_quietly(request: Request, events: Sequence[CallEvent], project_id: int) -> None:
    """Ingest after the answer went out; a failure is logged, the call is not affected."""
    try:
        await ingest_events(request, events, project_id=project_id)
    except Exception:
        log.exception(
            "Twilio call %s: events not stored now; the status callbacks will bring it in",
            events[0].provider_call_id if events else "?",
        )


def _twiml(body: str, background: BackgroundTask | None = None) -> Response:
    return Response(body, media_type=TWIML, background=background)


async def _verified(
    request: Request, dialled_param: str | None
) -> tuple[TwilioRequest, TwilioTarget]:
    """The callback's form and its account, once its signature holds; raises BadSignature
    (403) or InvalidPayload (400), and lets database errors through."""
    form = await _read_form(request)
    account_sid = form.params.get("AccountSid", "")
    if not account_sid:
        raise BadSignature("AccountSid is missing: the request cannot be verified")
    dialled = form.params.get(dialled_param, "") if dialled_param else None
    target = await run_in_threadpool(_find_target, request, form, account_sid, dialled)
    if target is None:
        raise BadSignature(twilio.NOT_VERIFIED)
    _verify(request, form, target)
    return form, target


@router.post("/voice", name="twilio_voice")
async def twilio_voice(request: Request) -> Response:
    """The number's Voice URL: forward the call with recording, or say why it cannot be."""
    received_at = datetime.now(UTC)
    try:
        form = await _read_form(request)
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    account_sid = form.params.get("AccountSid", "")
    dialled = form.params.get("To", "")
    if not account_sid:
        return _refused(403, "AccountSid is missing: the request cannot be verified")
    memory = _route_memory(request)
    try:
        target = await run_in_threadpool(_find_target, request, form, account_sid, dialled)
    except Exception as exc:  # the database is down, or worse: never a 500 on the call path
        known = memory.recall(twilio.PROVIDER, account_sid, dialled)
        if known is None:
            log.error("Twilio call to %s: account not readable (%s); 503", dialled, exc)
            # Twilio then asks the number's fallback URL (docs/telephony/twilio.md).
            return JSONResponse(
                {"detail": DATABASE_UNAVAILABLE},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        log.warning("Twilio call to %s: account not readable (%s); route from memory", dialled, exc)
        target = TwilioTarget(known.project_id, known.secret, known.route)
    if target is None:
        return _refused(403, twilio.NOT_VERIFIED)
    try:
        _verify(request, form, target)
    except BadSignature as exc:
        return _refused(403, str(exc))
    route = target.route or Route(target.project_id, None, None, RouteReason.NO_DESTINATION)
    if target.auth_token:
        known = KnownRoute(target.project_id, target.auth_token, route)
        memory.remember(twilio.PROVIDER, account_sid, dialled, known)

    if route.forward_to is None:
        body = twilio.unrouted_twiml()
    else:
        body = twilio.forward_twiml(
            route.forward_to,
            caller=form.params.get("From"),
            action_url=_callback_url(request, "twilio_dial_done"),
            recording_callback_url=_callback_url(request, "twilio_recording"),
        )
    if route.reason is not RouteReason.TRACKING_NUMBER:
        log.info("Twilio call to %s: %s", dialled, route.reason)
    try:
        events = parse_events(
            lambda: twilio.voice_events(
                form.params, received_at=received_at, forwarded_to=route.forward_to
            )
        )
    except InvalidPayload as exc:
        log.warning("Twilio voice webhook not stored: %s", exc)
        return _twiml(body)
    return _twiml(body, BackgroundTask(_ingest_quietly, request, events, target.project_id))


@router.post("/dial-done", name="twilio_dial_done")
async def twilio_dial_done(request: Request) -> Response:
    """The <Dial action>: the forwarded leg's outcome, talk time and recording; then hang up."""
    received_at = datetime.now(UTC)
    try:
        form, target = await _verified(request, None)
        events = parse_events(lambda: twilio.dial_events(form.params, received_at=received_at))
    except BadSignature as exc:
        return _refused(403, str(exc))
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    except Exception as exc:  # on the call path: never a 500
        # Nothing can be verified or stored; the status callbacks carry the call's end.
        log.warning("Twilio Dial callback not stored (%s)", exc)
        return _twiml(twilio.hangup_twiml())
    task = BackgroundTask(_ingest_quietly, request, events, target.project_id)
    return _twiml(twilio.hangup_twiml(), task)


@router.post("/status", name="twilio_status", status_code=204)
async def twilio_status(request: Request) -> Response:
    """The number's status callback: the parent call rings, is answered, ends."""
    received_at = datetime.now(UTC)
    try:
        form, target = await _verified(request, "To")
        forwarded = target.route is None or target.route.forward_to is not None
        events = parse_events(
            lambda: twilio.status_events(form.params, received_at=received_at, forwarded=forwarded)
        )
    except BadSignature as exc:
        return _refused(403, str(exc))
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    if events:
        await ingest_events(request, events, project_id=target.project_id)
    return Response(status_code=204)


@router.post("/recording", name="twilio_recording", status_code=204)
async def twilio_recording(request: Request) -> Response:
    """The Dial's recording status callback: a finished recording is scheduled for fetching."""
    received_at = datetime.now(UTC)
    try:
        form, target = await _verified(request, None)
        events = parse_events(lambda: twilio.recording_events(form.params, received_at=received_at))
    except BadSignature as exc:
        return _refused(403, str(exc))
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    if events:
        await ingest_events(request, events, project_id=target.project_id)
    return Response(status_code=204)
