"""What the local stub servers of the tests share: a quiet request handler that answers bytes or
JSON, and a threaded server on a free local port, started and stopped around a test."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing; `send_json` answers with `json_content_type`."""

    json_content_type = "application/json"

    def log_message(self, *args: Any) -> None:
        return

    def send_bytes(self, status: int, data: bytes = b"", content_type: str | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status: int, body: Any) -> None:
        self.send_bytes(status, json.dumps(body).encode(), self.json_content_type)


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """`handler` served on a free port of 127.0.0.1 in a daemon thread, and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop_serving(server: ThreadingHTTPServer | None) -> None:
    """Stop a server `serve` started (None: it never started)."""
    if server is not None:
        server.shutdown()
        server.server_close()
