"""Request body limits per route class, enforced while the body streams in (ASGI middleware).

A body announced larger than its route's limit is refused with 413 before a byte is read; a
body without a Content-Length (chunked) or with a false one is counted as it arrives, and the
chunk that would cross the limit is never handed to the route: no route, however it reads its
body (a form, JSON, a signed webhook's raw bytes), holds more than the limit in memory.

A refusal of a tracking call carries CORS headers for the page's origin: it holds nothing of
any project, and the tracking script can then log why instead of a bare CORS failure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringtrail.recordings.policy import MAX_RECORDING_BYTES
from ringtrail.services.money.tables import MAX_UPLOAD_BYTES

KIB = 1024
TRACKING_BYTES = 16 * KIB
"""/t/v1: a visit start is a URL, a referrer and a few cookies."""
WEBHOOK_BYTES = 1_000_000
"""/hooks: a signed batch of up to 500 events, or one provider form."""
API_BYTES = 1_000_000
"""/api/v1 JSON bodies."""
MONEY_IMPORT_BYTES = 32 * KIB * KIB
"""Cost and deal imports: 100,000 JSON rows, or a CSV (which has its own 10 MB cap)."""
DASHBOARD_UPLOAD_BYTES = MAX_UPLOAD_BYTES + 64 * KIB
"""A dashboard CSV upload: the file and the form around it."""
FORM_BYTES = 256 * KIB
"""Everything else: the dashboard's forms (sign-in, settings), and any other path."""


@dataclass(frozen=True)
class RouteClass:
    """Routes that share a body limit: `methods` (None: any) and a pattern on the path."""

    name: str
    pattern: re.Pattern[str]
    max_bytes: int
    methods: frozenset[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and bool(self.pattern.match(path))


WRITES = frozenset({"POST", "PUT"})
ROUTE_CLASSES: tuple[RouteClass, ...] = (
    RouteClass("the tracking API", re.compile(r"/t/"), TRACKING_BYTES),
    RouteClass("webhooks", re.compile(r"/hooks/"), WEBHOOK_BYTES),
    RouteClass(
        "recording uploads",
        re.compile(r"/api/v1/projects/[^/]+/calls/[^/]+/recording/?$"),
        MAX_RECORDING_BYTES,
        frozenset({"PUT"}),
    ),
    RouteClass(
        "cost and deal imports",
        re.compile(r"/api/v1/projects/[^/]+/(costs|deals)(/csv)?/?$"),
        MONEY_IMPORT_BYTES,
        WRITES,
    ),
    RouteClass("the API", re.compile(r"/api/"), API_BYTES),
    RouteClass(
        "dashboard uploads",
        re.compile(r"/p/[^/]+/money/(costs|deals)/?$"),
        DASHBOARD_UPLOAD_BYTES,
        frozenset({"POST"}),
    ),
)
DEFAULT = RouteClass("dashboard forms", re.compile(""), FORM_BYTES)


def limit_for(
    method: str, path: str, route_classes: tuple[RouteClass, ...] = ROUTE_CLASSES
) -> RouteClass:
    """The route class of a request: the first that matches, else the dashboard forms'."""
    return next((c for c in route_classes if c.matches(method.upper(), path)), DEFAULT)


class BodyTooLarge(Exception):
    """Raised into the route by `receive` when the body crosses its limit."""


class BodySizeLimit:
    """Pure ASGI middleware: 413 for a body larger than its route class allows."""

    def __init__(self, app: ASGIApp, route_classes: tuple[RouteClass, ...] = ROUTE_CLASSES):
        self.app = app
        self.route_classes = route_classes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = limit_for(scope["method"], _app_path(scope), self.route_classes)
        declared = _declared_length(scope)
        if declared == -1:
            await _refuse(send, 400, "Content-Length is not a whole number", "bad_length", scope)
            return
        if declared is not None and declared > route.max_bytes:
            await _refuse(send, 413, _too_large(route), "too_large", scope)
            return
        await _Guarded(self.app, route).run(scope, receive, send)


class _Guarded:
    """One request: counts the body as the route reads it; 413 once it crosses the limit."""

    def __init__(self, app: ASGIApp, route: RouteClass) -> None:
        self.app = app
        self.route = route
        self.received = 0
        self.exceeded = False
        self.started = False
        self.replaced = False

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def guarded_receive() -> Message:
            if self.exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.route.max_bytes:
                    self.exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if self.replaced:
                return
            if message["type"] == "http.response.start" and self.exceeded:
                # The route caught the error and answered something else: the 413 is the answer.
                self.replaced = True
                await _refuse(send, 413, _too_large(self.route), "too_large", scope)
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except BodyTooLarge:
            if not self.started and not self.replaced:
                await _refuse(send, 413, _too_large(self.route), "too_large", scope)


def _app_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _declared_length(scope: Scope) -> int | None:
    """The largest Content-Length header; None without one, -1 when one is not a number."""
    lengths = [value for name, value in scope["headers"] if name.lower() == b"content-length"]
    if not lengths:
        return None
    if not all(value.strip().isdigit() for value in lengths):
        return -1
    # Longer than any limit has digits: no need to turn thousands of digits into an int.
    return max(int(value) if len(value.strip()) <= 15 else 10**15 for value in lengths)


def _too_large(route: RouteClass) -> str:
    return f"the request body is larger than {route.max_bytes} bytes, the limit for {route.name}"


def _cors_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """CORS headers for a refused tracking call from a page (none for any other route)."""
    if not _app_path(scope).startswith("/t/"):
        return []
    origins = [value for name, value in scope["headers"] if name.lower() == b"origin"]
    if len(origins) != 1:
        return []
    return [(b"access-control-allow-origin", origins[0]), (b"vary", b"Origin")]


async def _refuse(send: Send, status: int, detail: str, reason: str, scope: Scope) -> None:
    body = json.dumps({"detail": detail, "reason": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
                *_cors_headers(scope),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
