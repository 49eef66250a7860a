"""The callback widget's public side: the script `/w.js`, its settings and the request.

- `GET /w.js`: the widget (readable source `static/w.js`, served `static/w.min.js`, made with
  `python -m rjsmin -b < w.js > w.min.js`), cached like `/t.js`. `/t.js` loads it only for
  projects whose visit answer names it (services.feature_scripts).
- `GET /w/v1/config?key=...&lang=...`: texts in the page's language, colours, position, the
  delay rules, and whether the working hours are open now (else when they open).
- `POST /w/v1/callback`: `{key, visitor, phone, website, lang, url, request}` as JSON (sent as
  `text/plain`: no preflight). Inside the working hours the answer is `calling` with the
  countdown and the call is placed at once (the jobs runner is the safety net); outside them
  `scheduled` with the time. A refusal answers its `reason` and the polite text the visitor
  reads (`invalid_phone` 422, the limits 429 with Retry-After, the rest 403); the operator
  reads the reasons in the refusal log (services.lead_guard).

CORS headers echo the Origin when it is one of the project's allowed domains, as /t/v1 does.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.callback_widget import (
    WidgetSettings,
    format_local,
    is_open,
    next_opening,
    page_language,
)
from ringtrail.domain.lead_guard import HONEYPOT_FIELD, Refusal, Refused
from ringtrail.services.callback_calls import place_due_callbacks
from ringtrail.services.callback_requests import WidgetDisabled, project_zone, request_callback
from ringtrail.services.lead_guard import LeadGuard
from ringtrail.services.telephony_accounts import project_by_public_key
from ringtrail.storage.models import Project
from ringtrail.telephony.twilio_outbound import OutboundCaller, TwilioRestCaller
from ringtrail.web.deps import get_runtime
from ringtrail.web.tracking.api import BadBody, _parse, preflight, tracking_service
from ringtrail.web.tracking.static_scripts import serve_script

router = APIRouter(tags=["tracking"])
WIDGET_FILE = "w.min.js"
_lock = threading.Lock()
REFUSAL_STATUS = {
    Refusal.INVALID_PHONE: 422,
    Refusal.UNCALLABLE_PHONE: 422,
    Refusal.ADDRESS_LIMIT: 429,
    Refusal.VISITOR_LIMIT: 429,
    Refusal.PHONE_LIMIT: 429,
    Refusal.DAILY_CALLS: 429,
}


class CallbackBody(BaseModel):
    """POST /w/v1/callback."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    key: str = Field(min_length=1, max_length=100)
    visitor: str | None = Field(default=None, max_length=200)
    phone: str = Field(default="", max_length=64)
    honeypot: str = Field(default="", max_length=200, alias=HONEYPOT_FIELD)
    lang: str = Field(default="", max_length=20)
    url: str = Field(default="", max_length=2000)
    request: str | None = Field(default=None, max_length=64)


def lead_guard(request: Request) -> LeadGuard:
    """The app's lead guard: the tracking API's limiter and refusal log, built on first use."""
    state = request.app.state
    guard: LeadGuard | None = getattr(state, "lead_guard", None)
    if guard is None:
        service = tracking_service(request)
        with _lock:
            guard = getattr(state, "lead_guard", None)
            if guard is None:
                secret = get_runtime(request).settings.resolved_secret_key()
                guard = state.lead_guard = LeadGuard(
                    service.limiter, address_salt=secret, refusals=service.refusals
                )
    return guard


def outbound_caller(request: Request) -> OutboundCaller:
    """The app's Twilio client for outbound calls (a test may set `app.state.outbound_caller`)."""
    state = request.app.state
    caller: OutboundCaller | None = getattr(state, "outbound_caller", None)
    if caller is None:
        caller = state.outbound_caller = TwilioRestCaller(
            get_runtime(request).settings.twilio_api_base_url
        )
    return caller


def public_base(request: Request) -> str:
    """The address Twilio reaches this server at: RINGTRAIL_PUBLIC_URL, else the request's."""
    configured = get_runtime(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    proto = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip()
    host = (request.headers.get("x-forwarded-host") or "").split(",")[0].strip()
    return f"{proto or request.url.scheme}://{host or request.url.netloc}"


@router.api_route("/w.js", methods=["GET", "HEAD"], include_in_schema=False)
async def widget_script(request: Request) -> Response:
    """The callback widget, loaded by /t.js for projects that switched it on (cached and
    compressed as /t.js is)."""
    return serve_script(request, WIDGET_FILE)


def _allowed(request: Request, key: str) -> str | None:
    return tracking_service(request).allowed_origin(key, request.headers.get("origin"))


def _json(status: int, content: dict[str, Any], origin: str | None) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    return JSONResponse(content, status_code=status, headers=headers)


def _project(request: Request, key: str) -> Project | None:
    with get_runtime(request).sessions() as session:
        project = project_by_public_key(session, key)
        if project is not None:
            session.expunge(project)
        return project


@router.get("/w/v1/config")
async def widget_config(request: Request, key: str = "", lang: str = "") -> Response:
    """What the widget shows on this page, and whether a call would be placed now."""
    project = await run_in_threadpool(_project, request, key[:100]) if key else None
    origin = await run_in_threadpool(_allowed, request, key) if project else None
    settings = WidgetSettings.of(project.extra if project else None)
    if project is None or not settings.enabled:
        return _json(404, {"reason": "widget_off"}, request.headers.get("origin"))
    if request.headers.get("origin") and origin is None:
        return _json(403, {"reason": "origin_not_allowed"}, request.headers.get("origin"))
    language = page_language(settings.language, lang)
    now = datetime.now(UTC)
    zone = project_zone(project)
    open_now = is_open(settings.hours, now, zone)
    opening = None if open_now else next_opening(settings.hours, now, zone)
    content = {
        "language": language,
        "texts": settings.texts_for(language),
        "colour": settings.colour,
        "text_colour": settings.text_colour,
        "position": settings.position,
        "delay": {
            "seconds": settings.delay.seconds,
            "scroll_percent": settings.delay.scroll_percent,
            "exit_intent": settings.delay.exit_intent,
        },
        "open": open_now,
        "opens_at": format_local(opening, zone, language, now) if opening else None,
        "countdown_seconds": settings.countdown_seconds,
        "honeypot": HONEYPOT_FIELD,
    }
    return _json(200, content, origin)


@router.post("/w/v1/callback")
async def widget_callback(request: Request) -> Response:
    """A visitor asks to be called back (see the module's docstring)."""
    origin = request.headers.get("origin")
    try:
        body = _parse(await request.body(), CallbackBody)
    except BadBody as exc:
        return _json(exc.status, {"reason": exc.reason, "detail": exc.detail}, origin)
    allowed = await run_in_threadpool(_allowed, request, body.key)
    if origin and allowed is None:
        return _json(403, {"reason": "origin_not_allowed"}, origin)
    runtime = get_runtime(request)
    guard = lead_guard(request)
    signer = tracking_service(request).signer
    address = request.client.host if request.client else ""
    base = public_base(request)
    now = datetime.now(UTC)

    def accept() -> tuple[int, dict[str, Any], int | None]:
        with runtime.sessions() as session:
            project = project_by_public_key(session, body.key)
            if project is None:
                return 404, {"reason": "unknown_project"}, None
            settings = WidgetSettings.of(project.extra)
            language = page_language(settings.language, body.lang)
            try:
                accepted = request_callback(
                    session,
                    project,
                    guard=guard,
                    signer=signer,
                    phone=body.phone,
                    honeypot=body.honeypot,
                    visitor_token=body.visitor,
                    address=address,
                    language=language,
                    now=now,
                    page_url=body.url,
                    user_agent=request.headers.get("user-agent", ""),
                    request_key=body.request,
                )
            except WidgetDisabled:
                return 404, {"reason": "widget_off"}, None
            except Refused as refused:
                session.commit()
                content: dict[str, Any] = {
                    "reason": refused.reason.value,
                    "message": settings.text(language, refused.visitor_text_key),
                }
                if refused.retry_after is not None:
                    content["retry_after"] = max(1, math.ceil(refused.retry_after))
                return REFUSAL_STATUS.get(refused.reason, 403), content, None
            callback = accepted.request
            callback.payload = {**(callback.payload or {}), "callback_base": base}
            session.commit()
            zone = project_zone(project)
            if callback.status == "waiting" and not callback.scheduled:
                seconds = settings.countdown_seconds
                text = settings.text(language, "countdown").replace("{seconds}", str(seconds))
                answer = {"status": "calling", "seconds": seconds, "message": text}
                return 200, answer, callback.id if accepted.created else None
            if callback.due_at is None:
                text = settings.text(language, "refused")
                return 200, {"status": "listed", "message": text}, None
            when = format_local(callback.due_at, zone, language, now)
            text = settings.text(language, "scheduled").replace("{time}", when)
            return 200, {"status": "scheduled", "at": when, "message": text}, None

    status, content, place = await run_in_threadpool(accept)
    response = _json(status, content, allowed)
    if "retry_after" in content:
        response.headers["Retry-After"] = str(content["retry_after"])
    if place is not None:
        caller = outbound_caller(request)
        response.background = BackgroundTask(
            run_in_threadpool,
            place_due_callbacks,
            runtime.sessions,
            caller,
            base,
            datetime.now(UTC),
            only=place,
        )
    return response


router.add_api_route("/w/v1/callback", preflight, methods=["OPTIONS"], include_in_schema=False)
