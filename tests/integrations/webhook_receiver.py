"""A local HTTPS-less receiver for signed CRM webhooks: it verifies each request with
Ringtrail's own inbound verifier (telephony/signed.py) and the secrets it accepts.

`answers` queues statuses to answer (default 200 when the signature passes, 403 when it
does not); every request is kept in `received` with its headers, body and verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

from ringtrail.telephony import signed
from ringtrail.telephony.errors import BadSignature
from tests.http_stub import StubHandler, serve, stop_serving


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

        class Handler(StubHandler):
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
                self.send_json(status, {"verdict": verdict})

        self._server, base_url = serve(Handler)
        self.url = f"{base_url}/ringtrail"
        return self

    def stop(self) -> None:
        stop_serving(self._server)
