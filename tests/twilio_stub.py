"""A local HTTP server that speaks the part of Twilio's REST API callbacks use: Calls create.

`POST /2010-04-01/Accounts/{AccountSid}/Calls.json` with Basic auth `AccountSid:AuthToken`
and a form body answers 201 with the call's JSON (`sid`, `status` `queued`, `direction`
`outbound-api`), as Twilio does; a wrong account or token answers 401 with Twilio's error
JSON, and `fail_next` makes the next create answer an error (e.g. 400 with code 21211, or
503). Every accepted create is kept in `calls` (the form fields, every value of each).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.http_stub import StubHandler, serve, stop_serving


@dataclass
class StubCall:
    """One call the stub created: its sid and the form Twilio's client sent."""

    sid: str
    account_sid: str
    form: dict[str, list[str]]

    def field(self, name: str) -> str:
        return self.form[name][0]


@dataclass
class TwilioStub:
    """The running stub: where it listens and what it was asked."""

    account_sid: str
    auth_token: str
    calls: list[StubCall] = field(default_factory=list)
    fail_next: tuple[int, int] | None = None  # (HTTP status, Twilio error code)
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> TwilioStub:
        stub = self

        class Handler(StubHandler):
            def do_POST(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) != 4 or parts[0] != "2010-04-01" or parts[3] != "Calls.json":
                    return self.send_json(404, {"code": 20404, "message": "not found"})
                expected = base64.b64encode(
                    f"{stub.account_sid}:{stub.auth_token}".encode()
                ).decode()
                if (
                    parts[2] != stub.account_sid
                    or self.headers.get("Authorization") != f"Basic {expected}"
                ):
                    return self.send_json(401, {"code": 20003, "message": "Authenticate"})
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                if stub.fail_next is not None:
                    status, code = stub.fail_next
                    stub.fail_next = None
                    return self.send_json(
                        status, {"code": code, "message": "refused", "status": status}
                    )
                sid = "CA" + uuid.uuid4().hex
                stub.calls.append(StubCall(sid, parts[2], form))
                self.send_json(
                    201,
                    {
                        "sid": sid,
                        "account_sid": parts[2],
                        "to": form.get("To", [""])[0],
                        "from": form.get("From", [""])[0],
                        "status": "queued",
                        "direction": "outbound-api",
                        "uri": f"/2010-04-01/Accounts/{parts[2]}/Calls/{sid}.json",
                    },
                )

        self._server, self.base_url = serve(Handler)
        return self

    def stop(self) -> None:
        stop_serving(self._server)
