"""Prometheus metrics at GET /metrics: HTTP traffic per route, and state read when scraped.

Requests are counted in each web process by `HttpMetrics` (ASGI middleware; labels: route
template, method, status class). Under `serve --workers N` prometheus_client's multiprocess
mode keeps each process's figures in files under PROMETHEUS_MULTIPROC_DIR, and a scrape,
answered by any one worker, sums them all. Pools, job queues, failures and whether the
database and Redis answer are read when scraped (services.monitoring), from whichever worker
answers, and kept a few seconds so that several scrapers cost one read.

The endpoint answers only `Authorization: Bearer <RINGTRAIL_METRICS_TOKEN>`; without that
setting it does not exist (404), so it is never open to the internet by default.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypeVar

import fastapi.routing
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringtrail.runtime import Runtime
from ringtrail.services.monitoring import (
    Failures,
    OperationsSnapshot,
    read_failures,
    read_operations,
)
from ringtrail.storage.models.base import utcnow
from ringtrail.web.deps import get_runtime

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
STATE_TTL_SECONDS = 10.0
"""Pools, queues and the up checks are read at most this often per process."""
FAILURES_TTL_SECONDS = 60.0
"""Counting failed recordings scans their table, so it is refreshed less often."""
UNMATCHED = "unmatched"
"""The route label of a request no route took (404s, bodies refused before routing)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

log = logging.getLogger(__name__)
router = APIRouter()

# Not in prometheus_client's global registry: each scrape builds its own (see `render`).
REQUESTS = Counter(
    "ringtrail_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "ringtrail_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template, method and "
    "status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)


@cache
def process_requests() -> Gauge:
    """Requests this web process has answered: one series per live worker (label `pid`).

    Made on first use, not at import, so that a `serve --workers` supervisor, which imports
    this module but answers nothing, never appears as a worker.
    """
    return Gauge(
        "ringtrail_web_process_requests",
        "Requests answered by each live web process since it started.",
        registry=None,
        multiprocess_mode="liveall",
    )


def multiprocess_dir() -> Path | None:
    """Where the workers' figures are kept, when several processes serve (else None)."""
    configured = os.environ.get(MULTIPROCESS_ENV)
    return Path(configured) if configured else None


def forget_process(pid: int) -> None:
    """Drop a dead worker's per-process series (its request counts stay in the sums)."""
    if multiprocess_dir() is not None:
        mark_process_dead(pid)  # type: ignore[no-untyped-call]


def clear_multiprocess_dir(directory: Path) -> None:
    """Remove the figures a previous run left, so counters start again from zero."""
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


class HttpMetrics:
    """Counts every HTTP request and its duration under its route's template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.per_process = process_requests()
        self.templates: RouteTemplates | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            if self.templates is None:  # the app's routes are complete by its first request
                self.templates = RouteTemplates(scope["app"])
            labels = (self.templates.of(scope), _method_of(scope), f"{status // 100}xx")
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
            self.per_process.inc()


_LEARNED: dict[int, tuple[weakref.ref[BaseRoute], str]] = {}
"""Whole templates by route, shared by every app of the process: the routes are module-level
objects, so an app built again (each test builds one) finds its templates already known."""


def _forget(gone: weakref.ref[BaseRoute]) -> None:
    """Drop a route's template when the route is gone (a route of one app only)."""
    for key, (ref, _path) in list(_LEARNED.items()):
        if ref is gone:
            del _LEARNED[key]
            return


class RouteTemplates:
    """The path template of the route a request reached, with its routers' prefixes.

    Labels are templates, never paths, so the label set stays bounded whatever clients send.
    FastAPI leaves the matched route in the scope, but an included router's route knows only
    its own part of the path, so the whole templates are read from the app: once per process
    for the routes apps share, since reading them makes FastAPI resolve every route's
    dependencies (a quarter of a second for this app). Routes that FastAPI does not record in
    the scope (the API schema, the static files mount) are found by their literal paths.
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.learned = False
        self.literal: dict[str, str] = {}
        self.mounts: list[str] = []
        for route in app.routes:
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                continue
            if isinstance(route, Mount):
                self.mounts.append(path.rstrip("/") + "/")
            elif "{" not in path:
                self.literal.setdefault(path, path)

    def _learn(self) -> None:
        """Read every route's whole template from the app (FastAPI's route contexts)."""
        self.learned = True
        opened = getattr(fastapi.routing, "iter_route_contexts", None)
        contexts = list(opened(self.app.routes)) if opened is not None else list(self.app.routes)
        for context in contexts:
            route = getattr(context, "original_route", context)
            path = getattr(context, "path", None)
            if isinstance(path, str) and isinstance(route, BaseRoute):
                _LEARNED[id(route)] = (weakref.ref(route, _forget), path)
                if "{" not in path and not isinstance(route, Mount):
                    self.literal.setdefault(path, path)

    def _known(self, route: BaseRoute) -> str | None:
        kept = _LEARNED.get(id(route))
        return kept[1] if kept is not None and kept[0]() is route else None

    def of(self, scope: Scope) -> str:
        """The template of the route `scope` reached, or UNMATCHED."""
        route = scope.get("route")
        if isinstance(route, BaseRoute):
            found = self._known(route)
            if found is None and not self.learned:
                self._learn()
                found = self._known(route)
            found = found or getattr(route, "path", None)
            if isinstance(found, str) and found:
                return found
        path = str(scope.get("path", ""))
        if path in self.literal:
            return self.literal[path]
        return next((mount[:-1] for mount in self.mounts if path.startswith(mount)), UNMATCHED)


def _method_of(scope: Scope) -> str:
    method = str(scope.get("method", "")).upper()
    return method if method in METHODS else "OTHER"


T = TypeVar("T")


@dataclass
class _Kept:
    """A value read at most once per `ttl` seconds; None while the last read failed."""

    ttl: float
    value: object = None
    read_at: float = field(default=-1e9)


class StateReader:
    """The database- and Redis-backed figures of one process, kept for a few seconds."""

    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.clock = clock
        self._lock = threading.Lock()
        self._state = _Kept(STATE_TTL_SECONDS)
        self._failures = _Kept(FAILURES_TTL_SECONDS)
        self._redis_up = _Kept(STATE_TTL_SECONDS)

    def operations(self) -> OperationsSnapshot | None:
        """Pools and queues, or None when the database did not answer."""
        return self._read(self._state, lambda: read_operations(self.runtime.engine, utcnow()))

    def failures(self) -> Failures | None:
        """Failed recordings and deliveries, or None when the database did not answer."""
        return self._read(self._failures, lambda: read_failures(self.runtime.engine))

    def redis_up(self) -> bool | None:
        """Whether Redis answers; None when none is configured."""
        client = self.runtime.redis
        if client is None:
            return None
        return bool(self._read(self._redis_up, lambda: bool(client.ping())))

    def _read(self, kept: _Kept, read: Callable[[], T]) -> T | None:
        with self._lock:
            now = self.clock()
            if now - kept.read_at >= kept.ttl:
                try:
                    kept.value = read()
                except Exception as exc:  # a scrape reports "down", it never fails
                    log.warning("metrics: could not read state: %s", type(exc).__name__)
                    kept.value = None
                kept.read_at = now
            return kept.value  # type: ignore[return-value]


class StateCollector(Collector):
    """Turns the state read at scrape time into metric families."""

    def __init__(self, reader: StateReader) -> None:
        self.reader = reader

    def collect(self) -> Iterator[Metric]:
        operations = self.reader.operations()
        failures = self.reader.failures() if operations is not None else None
        up = GaugeMetricFamily(
            "ringtrail_database_up", "Whether the database answered the last read (1) or not."
        )
        up.add_metric([], 1 if operations is not None else 0)
        yield up
        redis_up = self.reader.redis_up()
        if redis_up is not None:
            redis = GaugeMetricFamily("ringtrail_redis_up", "Whether Redis answers (1) or not.")
            redis.add_metric([], 1 if redis_up else 0)
            yield redis
        if operations is not None:
            yield from _pool_families(operations)
            yield from _queue_families(operations)
        if failures is not None:
            failed = GaugeMetricFamily(
                "ringtrail_failed_jobs",
                "Work given up for good: recordings never fetched (recording_fetch), "
                "conversions a destination refused (outbound_delivery).",
                labels=["queue"],
            )
            failed.add_metric(["recording_fetch"], failures.recordings)
            failed.add_metric(["outbound_delivery"], failures.deliveries)
            yield failed


def _pool_families(operations: OperationsSnapshot) -> Iterator[Metric]:
    labels = ["project_id", "pool_id"]
    numbers = GaugeMetricFamily(
        "ringtrail_pool_numbers", "Active numbers of a pool (its default left out).", labels=labels
    )
    held = GaugeMetricFamily(
        "ringtrail_pool_numbers_held", "A pool's numbers held by a visitor now.", labels=labels
    )
    this_hour = GaugeMetricFamily(
        "ringtrail_pool_overflows_this_hour",
        "Visitors this hour who found no free number and saw the pool's default.",
        labels=labels,
    )
    last_day = GaugeMetricFamily(
        "ringtrail_pool_overflows_last_24h",
        "Visitors in the last 24 hours who found no free number and saw the pool's default.",
        labels=labels,
    )
    for pool in operations.pools:
        values = [str(pool.project_id), str(pool.pool_id)]
        numbers.add_metric(values, pool.numbers)
        held.add_metric(values, pool.held)
        this_hour.add_metric(values, pool.overflows_this_hour)
        last_day.add_metric(values, pool.overflows_last_24h)
    yield from (numbers, held, this_hour, last_day)


def _queue_families(operations: OperationsSnapshot) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "ringtrail_job_queue_depth", "Jobs waiting in a queue, due or not.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "ringtrail_job_queue_oldest_age_seconds",
        "How long the most overdue job of a queue has been due (0 when none is).",
        labels=["queue"],
    )
    for queue in operations.queues:
        depth.add_metric([queue.name], queue.depth)
        oldest.add_metric([queue.name], queue.oldest_due_seconds)
    yield from (depth, oldest)


def render(reader: StateReader) -> bytes:
    """One scrape's text: every process's HTTP figures, then the state read now."""
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess_dir() is not None:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (REQUESTS, LATENCY, process_requests()):
            registry.register(collector)
    registry.register(StateCollector(reader))
    return generate_latest(registry)


def token_matches(request: Request, token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (compared in constant time)."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The Prometheus text exposition, for a scraper holding the metrics token."""
    token = get_runtime(request).settings.metrics_token
    if not token:
        raise HTTPException(status_code=404)
    if not token_matches(request, token):
        raise HTTPException(
            status_code=401,
            detail="a valid metrics token is needed (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = await run_in_threadpool(render, request.app.state.metrics_reader)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI, runtime: Runtime) -> None:
    """Serve /metrics and count every request (call after the other middleware: outermost)."""
    app.state.metrics_reader = StateReader(runtime)
    process_requests().inc(0)  # the process shows in the next scrape before it answers
    app.include_router(router)
    app.add_middleware(HttpMetrics)
