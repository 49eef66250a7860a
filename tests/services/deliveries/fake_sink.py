"""Test helper: a destination kind `fake_sink` and a local HTTP server it sends to.

The server behaves like an ad platform: it keeps one event per dedupe key (a repeat is
acknowledged and dropped, as `transaction_id` / `event_id` are), counts every request, and
can be told to answer 503, 400, or slowly. `register()` adds the kind to the registry (the
SIGKILL test's worker process calls it too, through tests/services/deliveries/worker_main.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field

from ringtrail.integrations import registry
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)

KIND = "fake_sink"


class SinkConfig(BaseModel):
    url: str = Field(min_length=8)
    token: str = Field(min_length=8)


class SinkDestination:
    kind: ClassVar[str] = KIND
    label: ClassVar[str] = "Fake sink"
    config_model: ClassVar[type[BaseModel]] = SinkConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})
    on_change: ClassVar[OnChange] = "restatement"
    events: ClassVar[frozenset[str]] = frozenset({"conversion", "call", "lead"})

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        if facts.extra.get("tracking_number") == "+10000000000":
            return Skip("no_click_id", "no gclid: the visit came from organic search")
        key = f"{facts.subject_kind}-{facts.subject_id}-{conversion.event}"
        payload = {
            "event": conversion.event,
            "name": conversion.name,
            "value": None if conversion.value is None else str(conversion.value),
            "phone": facts.phone_e164,
            "target": facts.is_target,
            "previous": sorted(facts.extra.get("previous_responses", {})),
            "dedupe_key": key,
        }
        return Prepared(payload, key)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        assert isinstance(config, SinkConfig)
        answer = client.post(
            config.url, json=prepared.payload, headers={"Authorization": config.token}
        )
        body = answer.json() if answer.content else {}
        if answer.status_code < 300:
            return SendResult("accepted", answer.status_code, body)
        if answer.status_code in (429,) or answer.status_code >= 500:
            after = answer.headers.get("Retry-After")
            return SendResult(
                "retry",
                answer.status_code,
                body,
                "the sink is down",
                float(after) if after else None,
            )
        return SendResult("rejected", answer.status_code, body, body.get("error", "refused"))

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        return {**payload, "phone": "+38*******67" if payload.get("phone") else None}


DESTINATION = SinkDestination()


def register() -> None:
    """Make `fake_sink` a known kind in this process."""
    registry.KINDS[KIND] = __name__
    registry.destination.cache_clear()


def unregister() -> None:
    registry.KINDS.pop(KIND, None)
    registry.destination.cache_clear()


class Sink(ThreadingHTTPServer):
    """The platform: `events` by dedupe key (first one kept), `requests` counts every POST."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.events: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.requests = 0
        self.in_flight = 0
        self.mode = "ok"  # ok, down, refuse
        self.delay = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/collect"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Sink

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        sink = self.server
        with sink.lock:
            sink.in_flight += 1
        if sink.delay:
            time.sleep(sink.delay)
        with sink.lock:
            sink.in_flight -= 1
            sink.requests += 1
            mode = sink.mode
            if mode == "ok" and body["dedupe_key"] not in sink.events:
                sink.events[body["dedupe_key"]] = body
                sink.order.append(body["dedupe_key"])
        if mode == "down":
            self._answer(503, {"error": "unavailable"}, {"Retry-After": "30"})
        elif mode == "refuse":
            self._answer(400, {"error": "the click id is unknown"})
        else:
            self._answer(200, {"id": f"crm-{body['dedupe_key']}"})

    def _answer(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


@contextmanager
def running_sink() -> Iterator[Sink]:
    """A sink serving in a thread for the `with` block."""
    sink = Sink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()


@contextmanager
def registered_sink() -> Iterator[Sink]:
    """A running sink, with `fake_sink` registered as a destination kind for the block."""
    register()
    try:
        with running_sink() as sink:
            yield sink
    finally:
        unregister()
