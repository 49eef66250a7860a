"""The visitor-facing tracking API called by /t.js: start a visit, heartbeat, ping.

Bodies are JSON sent as `text/plain` (a CORS "simple request", no preflight) or as
`application/json` (preflight answered by OPTIONS). CORS headers echo the Origin when its
host is one of the project's allowed domains or a subdomain of one, and on refusals that
carry nothing of the project (an unknown key, an origin not allowed, a body too big), so the
page's script can read and log why. A visit answer with no tracking number of its own says
why in `reason` (services.refusals.NoNumber). The body's size is
limited before it gets here (web.body_limit); text that cannot be stored (NUL characters,
lone surrogates) or JSON nested too deep is refused with the field it is in.
"""

from __future__ import annotations

import asyncio
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.input_checks import NotJson, TooDeep, UnusableInput, load_json
from ringtrail.leases.base import LeaseBackend
from ringtrail.leases.factory import make_lease_backend
from ringtrail.runtime import Runtime
from ringtrail.services.bot_signals import (
    BotSignals,
    MemoryWindowCounter,
    RedisWindowCounter,
    WindowCounter,
)
from ringtrail.services.rate_limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from ringtrail.services.refusals import RefusalLog
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.services.visits import TrackingService, VisitRefused, VisitStart
from ringtrail.web.deps import get_runtime

router = APIRouter(prefix="/t/v1", tags=["tracking"])

STATUS = {
    "too_large": 413,
    "unknown_project": 404,
    "origin_not_allowed": 403,
    "forged_token": 400,
    "rate_limited": 429,
    "no_hold": 404,
    "hold_gone": 410,
}
READABLE_ANYWHERE = frozenset({"unknown_project", "origin_not_allowed"})
"""Refusals whose answer (a reason and a fixed sentence) any page may read."""
_service_lock = threading.Lock()
VISIT_THREADS = 8
# Visit starts block on the database, so they run in threads, but in a few of their own: with
# the default pool's 40, the threads fight over the GIL and one process starts fewer visits.
_visit_threads = ThreadPoolExecutor(VISIT_THREADS, thread_name_prefix="visit-start")
Body = TypeVar("Body", bound=BaseModel)


class VisitBody(BaseModel):
    """POST /t/v1/visit."""

    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=100)
    visitor: str | None = Field(default=None, max_length=200)
    url: str
    referrer: str = ""
    cookies: dict[str, str] = Field(default_factory=dict)
    visible: bool = True
    intent: bool = False
    """Sent by `i.js` when a phone number came into view or was touched: take the number."""


class HeartbeatBody(BaseModel):
    """POST /t/v1/heartbeat."""

    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=100)
    visitor: str | None = Field(default=None, max_length=200)
    visit: str = Field(min_length=1, max_length=200)


class BadBody(Exception):
    """The request body is not what the endpoint takes."""

    def __init__(self, status: int, detail: Any, reason: str) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.reason = reason


def build_tracking_service(runtime: Runtime, backend: LeaseBackend) -> TrackingService:
    """The service on `backend`, with a rate limiter and bot signal counts shared in Redis when
    one is configured."""
    secret = runtime.settings.resolved_secret_key()
    limiter: RateLimiter = (
        RedisRateLimiter(runtime.redis, prefix=f"{runtime.settings.redis_key_prefix}:rate")
        if runtime.redis is not None
        else MemoryRateLimiter()
    )
    counter: WindowCounter = (
        RedisWindowCounter(runtime.redis, prefix=f"{runtime.settings.redis_key_prefix}:bots")
        if runtime.redis is not None
        else MemoryWindowCounter()
    )
    return TrackingService(
        runtime.sessions,
        backend,
        TokenSigner(secret),
        limiter,
        address_salt=secret,
        refusals=RefusalLog(runtime.engine),
        bot_signals=BotSignals(counter),
    )


def lease_backend(request: Request) -> LeaseBackend:
    """The app's lease backend (chosen by leases.factory), built on first use."""
    state = request.app.state
    with _service_lock:
        backend: LeaseBackend | None = getattr(state, "lease_backend", None)
        if backend is None:
            backend = state.lease_backend = make_lease_backend(get_runtime(request))
    return backend


def tracking_service(request: Request) -> TrackingService:
    """The app's tracking service, built on first use."""
    state = request.app.state
    service: TrackingService | None = getattr(state, "tracking_service", None)
    if service is None:
        backend = lease_backend(request)
        with _service_lock:
            service = getattr(state, "tracking_service", None)
            if service is None:
                service = build_tracking_service(get_runtime(request), backend)
                state.tracking_service = service
    return service


@router.post("/visit")
async def start_visit(request: Request) -> Response:
    """Start (or continue) a visit: the numbers this visitor must see instead of the page's."""
    origin = request.headers.get("origin")
    try:
        body = _parse(await request.body(), VisitBody)
    except BadBody as exc:
        return _error(exc.status, exc.detail, origin, reason=exc.reason)
    service = tracking_service(request)
    start = VisitStart(
        key=body.key,
        visitor_token=body.visitor,
        url=body.url,
        referrer=body.referrer,
        cookies=body.cookies,
        visible=body.visible,
        user_agent=request.headers.get("user-agent", ""),
        client_address=request.client.host if request.client else "",
        origin=origin,
        intent=body.intent,
    )
    try:
        started = await asyncio.get_running_loop().run_in_executor(
            _visit_threads, service.start_visit, start, datetime.now(UTC)
        )
    except VisitRefused as refused:
        return await _refusal(service, body.key, origin, refused)
    content: dict[str, Any] = {
        "visitor": started.visitor_token,
        "visit": started.visit_token,
        "cookie_domain": started.cookie_domain,
        "heartbeat_seconds": started.heartbeat_seconds,
        "numbers": [
            {"original": n.original, "number": n.number, "kind": n.kind} for n in started.numbers
        ],
        "selectors": list(started.selectors),
    }
    if started.features.scripts:
        content["scripts"] = list(started.features.scripts)
        content.update(started.features.features)
    if started.reason is not None:
        content["reason"] = started.reason.value
        content["detail"] = started.detail
        if started.bot is not None:
            content["bot"] = started.bot
    return _json(200, content, origin)


@router.post("/heartbeat")
async def heartbeat(request: Request) -> Response:
    """Extend the visit's hold while its tab is visible."""
    origin = request.headers.get("origin")
    try:
        body = _parse(await request.body(), HeartbeatBody)
    except BadBody as exc:
        return _error(exc.status, exc.detail, origin, reason=exc.reason)
    service = tracking_service(request)
    address = request.client.host if request.client else ""
    try:
        hold_until = await run_in_threadpool(
            service.heartbeat,
            body.key,
            body.visitor,
            body.visit,
            origin,
            address,
            datetime.now(UTC),
        )
    except VisitRefused as refused:
        return await _refusal(service, body.key, origin, refused)
    return _json(200, {"hold_until": hold_until.isoformat()}, origin)


@router.options("/visit", include_in_schema=False)
@router.options("/heartbeat", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight for `application/json` bodies; the POST itself checks the origin."""
    origin = request.headers.get("origin")
    headers = {
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
        "Vary": "Origin",
    }
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    return Response(status_code=204, headers=headers)


@router.get("/ping", include_in_schema=False)
async def ping() -> dict[str, bool]:
    """A bare answer: the benchmark's yardstick for the framework's own cost."""
    return {"ok": True}


def _parse(raw: bytes, model: type[Body]) -> Body:
    try:
        data = load_json(raw)
    except TooDeep as exc:
        raise BadBody(400, f"body is {exc.problem}", "bad_json") from exc
    except NotJson as exc:
        raise BadBody(400, f"body is not JSON: {exc.problem}", "bad_json") from exc
    except UnusableInput as exc:
        detail = [{"loc": ["body", *exc.where], "msg": exc.problem, "type": "value_error"}]
        raise BadBody(422, detail, "invalid_body") from exc
    if not isinstance(data, dict):
        raise BadBody(400, "body must be a JSON object", "bad_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        detail = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise BadBody(422, detail, "invalid_body") from exc


async def _refusal(
    service: TrackingService, key: str, origin: str | None, refused: VisitRefused
) -> Response:
    if refused.reason.value in READABLE_ANYWHERE:
        # Nothing of any project is in these answers, so any page may read why it was refused
        # (the script logs the reason instead of the browser logging a CORS failure).
        allowed = origin
    else:
        allowed = await run_in_threadpool(service.allowed_origin, key, origin)
    response = _error(
        STATUS[refused.reason.value], refused.detail, allowed, reason=refused.reason.value
    )
    if refused.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after)))
    return response


def _error(status: int, detail: Any, origin: str | None, reason: str | None = None) -> Response:
    content: dict[str, Any] = {"detail": detail}
    if reason is not None:
        content["reason"] = reason
    return _json(status, content, origin)


def _json(status: int, content: dict[str, Any], origin: str | None) -> Response:
    headers = {"Cache-Control": "no-store", "Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    return JSONResponse(content, status_code=status, headers=headers)
