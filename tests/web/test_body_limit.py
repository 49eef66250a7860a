"""Request bodies are limited while they stream in, before any route (or signature) sees them."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message

from ringtrail.runtime import Runtime
from ringtrail.storage.models import TelephonyAccount
from ringtrail.telephony.signed import sign
from ringtrail.web.app import create_app
from ringtrail.web.body_limit import (
    API_BYTES,
    FORM_BYTES,
    MONEY_IMPORT_BYTES,
    TRACKING_BYTES,
    WEBHOOK_BYTES,
    limit_for,
)
from tests.conftest import World

CHUNK = 64 * 1024
MB = 1024 * 1024


@dataclass
class Upload:
    """A request body the client sends in chunks; counts how much of it was read."""

    total: int
    chunks: list[bytes] | None = None
    read: int = 0

    async def receive(self) -> Message:
        if self.chunks is not None:
            if not self.chunks:
                await asyncio.sleep(3600)  # the body is complete: only a disconnect can follow
            chunk = self.chunks.pop(0)
            self.read += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}
        if self.read >= self.total:
            await asyncio.sleep(3600)
        size = min(CHUNK, self.total - self.read)
        self.read += size
        return {"type": "http.request", "body": b"x" * size, "more_body": self.read < self.total}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: ASGIApp,
    path: str,
    upload: Upload,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> Answer:
    """Send one request straight to the ASGI app, as a server would."""
    raw_headers = [(b"host", b"testserver")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw_headers,
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
        "state": {},
    }
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    async def serve() -> None:
        await asyncio.wait_for(app(scope, upload.receive, send), timeout=60)

    # A thread of its own: the browser tests' Playwright keeps an event loop running in the
    # main thread for the whole session, and asyncio.run refuses to start inside it.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, serve()).result()
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    names = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], names, body)


@pytest.fixture
def app(runtime: Runtime, db: Session, world: World) -> ASGIApp:
    """The app, with Zadarma and Binotel accounts set up so their webhooks read the body."""
    for provider, secret, config in [
        ("zadarma", "zadarma-secret", {}),
        ("binotel", None, {"allowed_ips": ["127.0.0.1"]}),
    ]:
        db.add(
            TelephonyAccount(
                project_id=world.ours.project.id,
                provider=provider,
                secret=secret,
                config=config,
                is_active=True,
            )
        )
    db.commit()
    return create_app(runtime)


def public_routes(world: World) -> list[tuple[str, int]]:
    key = world.ours.project.public_key
    return [
        ("/t/v1/visit", TRACKING_BYTES),
        ("/t/v1/heartbeat", TRACKING_BYTES),
        (f"/hooks/v1/{key}/calls", WEBHOOK_BYTES),
        ("/hooks/twilio/voice", WEBHOOK_BYTES),
        ("/hooks/twilio/status", WEBHOOK_BYTES),
        (f"/hooks/zadarma/{key}", WEBHOOK_BYTES),
        (f"/hooks/binotel/{key}", WEBHOOK_BYTES),
        ("/api/v1/projects", API_BYTES),
        ("/login", FORM_BYTES),
    ]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


def test_a_chunked_body_over_the_limit_is_a_413_and_is_not_read_past_the_limit(
    app: ASGIApp, world: World
) -> None:
    for path, limit in public_routes(world):
        headers = JSON if path.startswith(("/t/", "/hooks/v1", "/api/")) else FORM
        upload = Upload(total=limit * 4 + 5 * MB)
        answer = call(app, path, upload, headers)

        assert upload.read <= limit + CHUNK, (path, upload.read)
        if path == "/login":  # refused for its missing form token before the body is read
            assert answer.status in (403, 413), (path, answer.status)
            continue
        assert answer.status == 413, (path, answer.status, answer.body[:200])
        assert answer.json()["reason"] == "too_large"
        assert str(limit) in answer.json()["detail"]


def test_a_huge_content_length_is_a_413_before_anything_is_read(app: ASGIApp, world: World) -> None:
    for path, limit in public_routes(world):
        upload = Upload(total=10)
        headers = {**JSON, "Content-Length": str(10**12)}
        answer = call(app, path, upload, headers)

        assert answer.status == 413, (path, answer.status, answer.body[:200])
        assert answer.json()["reason"] == "too_large"
        assert upload.read == 0, path
        lying = call(app, path, Upload(total=10), {**JSON, "Content-Length": str(limit + 1)})
        assert lying.status == 413, path


def test_the_signed_webhook_never_holds_more_than_its_limit_even_unsigned(
    app: ASGIApp, world: World
) -> None:
    upload = Upload(total=50 * MB)
    answer = call(app, f"/hooks/v1/{world.ours.project.public_key}/calls", upload, JSON)

    assert answer.status == 413
    assert upload.read <= WEBHOOK_BYTES + CHUNK


def test_a_body_under_the_limit_in_many_chunks_reaches_the_route_whole(
    app: ASGIApp, world: World
) -> None:
    event = {
        "event": "call.started",
        "call_id": "chunked-1",
        "occurred_at": "2026-11-23T10:00:00+02:00",
        "from": "+380501112233",
        "meta": {"pad": "p" * 200_000},
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    headers = {
        **JSON,
        "X-Ringtrail-Timestamp": str(stamp),
        "X-Ringtrail-Signature": sign(world.ours.project.webhook_secret, stamp, body),
    }
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    upload = Upload(total=len(body), chunks=chunks)

    answer = call(app, f"/hooks/v1/{world.ours.project.public_key}/calls", upload, headers)

    assert answer.status == 200, answer.body
    assert answer.json()["accepted"] == 1


def test_a_content_length_that_is_not_a_number_is_a_400(app: ASGIApp) -> None:
    answer = call(app, "/t/v1/visit", Upload(total=2), {**JSON, "Content-Length": "12abc"})

    assert answer.status == 400
    assert "Content-Length" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [
        ("POST", "/t/v1/visit", TRACKING_BYTES),
        ("POST", "/hooks/twilio/recording", WEBHOOK_BYTES),
        ("PATCH", "/api/v1/projects/1/pools/2", API_BYTES),
        ("PUT", "/api/v1/projects/1/calls/2/recording", 200 * MB),
        ("PUT", "/api/v1/projects/1/costs", MONEY_IMPORT_BYTES),
        ("POST", "/api/v1/projects/1/deals/csv", MONEY_IMPORT_BYTES),
        ("POST", "/p/1/money/costs", 10 * MB + 64 * 1024),
        ("POST", "/login", FORM_BYTES),
        ("POST", "/p/1/settings/numbers", FORM_BYTES),
    ],
)
def test_each_route_class_has_the_limit_its_largest_legitimate_body_needs(
    method: str, path: str, limit: int
) -> None:
    assert limit_for(method, path).max_bytes == limit
