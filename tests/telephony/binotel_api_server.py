"""Test helper: a local HTTP server speaking Binotel's API `stats/call-record` and serving audio.

`POST /api/4.0/stats/call-record.json` takes Binotel's JSON body (`key`, `secret`,
`generalCallID`) and answers as Binotel documents it: `{"status": "success", "url": ...}`,
or `{"status": "error", "code": ..., "message": ...}`. The link points at this server's
`/records/<token>.mp3`, which serves the call's audio until the link expires, then answers
403 with an S3-style "Request has expired", as the storage behind Binotel's links does.
Links expire when a test says so (`expire_links`), or at once for the first `stale_links`
links issued (a link handed out at the very end of its life).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CALL_RECORD_PATH = "/api/4.0/stats/call-record.json"
EXPIRED_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


@dataclass
class Link:
    """One link the API handed out."""

    general_call_id: str
    expired: bool = False
    downloads: int = 0


@dataclass
class BinotelApiServer:
    """Binotel's API for one account (`key`, `secret`) with recordings by `generalCallID`."""

    key: str = "binotel-key"
    secret: str = "binotel-secret"
    recordings: dict[str, bytes] = field(default_factory=dict)
    not_ready: dict[str, int] = field(default_factory=dict)
    """Calls whose recording is 'not found' for this many more API requests."""
    stale_links: int = 0
    api_requests: list[dict[str, object]] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)
    api_status: int = 200
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What RINGTRAIL_BINOTEL_API_URL would be."""
        return f"{self.base_url}/api/4.0"

    def expire_links(self) -> None:
        """Every link handed out so far has run out."""
        with self._lock:
            for link in self.links.values():
                link.expired = True

    def call_record(self, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        with self._lock:
            self.api_requests.append(body)
            if self.api_status != 200:
                return self.api_status, {"status": "error", "message": "Service unavailable"}
            if body.get("key") != self.key or body.get("secret") != self.secret:
                return 200, {"status": "error", "code": 6, "message": "Wrong key or secret"}
            call_id = str(body.get("generalCallID") or "")
            if self.not_ready.get(call_id, 0) > 0:
                self.not_ready[call_id] -= 1
                return 200, {"status": "error", "code": 121, "message": "Call record not found"}
            if call_id not in self.recordings:
                return 200, {"status": "error", "code": 121, "message": "Call record not found"}
            token = secrets.token_hex(8)
            stale = self.stale_links > 0
            self.stale_links -= 1 if stale else 0
            self.links[token] = Link(call_id, expired=stale)
            return 200, {"status": "success", "url": f"{self.base_url}/records/{token}.mp3"}

    def audio(self, path: str) -> tuple[int, bytes, str]:
        token = path.removeprefix("/records/").split("?")[0].removesuffix(".mp3")
        with self._lock:
            link = self.links.get(token)
            if link is None or link.expired:
                return 403, EXPIRED_BODY, "application/xml"
            link.downloads += 1
            return 200, self.recordings[link.general_call_id], "audio/mpeg"

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != CALL_RECORD_PATH:
                    self._send(404, b'{"status":"error","message":"no such method"}', "json")
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, b'{"status":"error","message":"not JSON"}', "json")
                    return
                status, answer = server.call_record(body if isinstance(body, dict) else {})
                self._send(status, json.dumps(answer).encode(), "json")

            def do_GET(self) -> None:
                status, content, content_type = server.audio(self.path)
                self._send(status, content, content_type)

            def _send(self, status: int, content: bytes, content_type: str) -> None:
                if content_type == "json":
                    content_type = "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def running_binotel_api(**options: object) -> Iterator[BinotelApiServer]:
    """A BinotelApiServer on 127.0.0.1 and a free port for the length of the block."""
    server = BinotelApiServer(**options)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()
