"""Test helper: a local HTTP server that plays a provider's media host with scripted answers.

Each path has a list of replies, used in order (the last one repeats); every request is kept
with its headers, so tests can check what was asked for and with which credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "audio/mpeg"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    authorization: str | None


class AudioServer:
    """Scripted replies per path on a loopback address (127.0.0.1) and a free port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def script(self, path: str, *replies: Reply) -> str:
        """Answer `path` with `replies` in order; returns its URL."""
        with self._lock:
            self.replies[path] = list(replies)
        return self.url(path)

    def hits(self, path: str) -> int:
        """How many requests asked for `path` (query ignored)."""
        with self._lock:
            return sum(1 for seen in self.seen if seen.path.split("?")[0] == path)

    def _next(self, path: str, authorization: str | None) -> Reply:
        with self._lock:
            self.seen.append(Seen(path, authorization))
            queue = self.replies.get(path.split("?")[0])
            if not queue:
                return Reply(404, b"not here", "text/plain")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server._next(self.path, self.headers.get("Authorization"))
                self.send_response(reply.status)
                if reply.content_type is not None:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def running_audio_server(host: str = "127.0.0.1") -> Iterator[AudioServer]:
    """An AudioServer on `host` (a loopback address) for the length of the block."""
    server = AudioServer(host)
    server.start()
    try:
        yield server
    finally:
        server.stop()
