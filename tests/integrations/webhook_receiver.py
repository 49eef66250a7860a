"""A local HTTPS-less receiver for signed CRM webhooks: it verifies each request with
Ringtrail's own inbound verifier (telephony/signed.py) and the secrets it accepts.

`answers` queues statuses to answer (default 200 when the signature passes, 403 when it
does not); every request is kept in `received` with its headers, body and verdict.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ringtrail.telephony import signed
from ringtrail.telephony.errors import BadSignature


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verdict: str  # "ok" or the verifier's reason

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class WebhookReceiver:
    secrets: list[str]
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    signed.verify(
                        receiver.secrets,
                        headers.get("x-ringtrail-timestamp"),
                        headers.get("x-ringtrail-signature"),
                        body,
                        datetime.now(UTC),
                    )
                    verdict = "ok"
                except BadSignature as exc:
                    verdict = str(exc)
                receiver.received.append(Received(headers, body, verdict))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if verdict != "ok":
                    status = 403
                data = json.dumps({"verdict": verdict}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/ringtrail"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
