"""A local HTTP server speaking the part of Google's APIs the Google Ads destination uses.

- `POST /token` (OAuth 2.0 token endpoint): a form with `grant_type=refresh_token`,
  `client_id`, `client_secret`, `refresh_token` answers `{"access_token", "expires_in",
  "token_type", "scope"}`; a wrong client answers 401 `invalid_client`, a wrong or revoked
  refresh token 400 `invalid_grant`, as Google does.
- `POST /v1/events:ingest` (Data Manager API) with `Authorization: Bearer <token>`: the body
  is parsed by the official `google.ads.datamanager_v1.IngestEventsRequest` (unknown fields
  refused), then checked as the API documents (a destination with a GOOGLE_ADS operating
  account and a known conversion action, 1 to 2000 events, each with a timestamp and exactly
  one click id); it answers `{"requestId": ...}`, or a `google.rpc.Status` error JSON with an
  `ErrorInfo` reason. `fail_next` makes the next ingest answer a chosen error.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from google.ads.datamanager_v1 import IngestEventsRequest

from tests.http_stub import StubHandler, serve, stop_serving

GRPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def rpc_error(status: int, message: str, reason: str | None = None) -> dict[str, Any]:
    """A `google.rpc.Status` as REST answers carry it, with an ErrorInfo when `reason`."""
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": GRPC_STATUS.get(status, "UNKNOWN"),
    }
    if reason is not None:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "datamanager.googleapis.com",
                "metadata": {},
            }
        ]
    return {"error": error}


@dataclass
class GoogleStub:
    """The running stub: where it listens, what it accepts, and what it was sent."""

    client_id: str = "client-1.apps.googleusercontent.com"
    client_secret: str = "client-secret-1"
    refresh_token: str = "refresh-token-1"
    conversion_actions: set[str] = field(default_factory=lambda: {"555000111"})
    accounts: set[str] = field(default_factory=lambda: {"1234567890"})
    expires_in: int = 3599
    fail_next: tuple[int, str, str | None] | None = None  # (HTTP status, message, reason)
    token_requests: int = 0
    tokens: set[str] = field(default_factory=set)
    ingested: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (as when one expires)."""
        self.tokens.clear()

    def start(self) -> GoogleStub:
        stub = self

        class Handler(StubHandler):
            json_content_type = "application/json; charset=UTF-8"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                path = self.path.split("?")[0]
                if path == "/token":
                    return self._token(parse_qs(body.decode(), keep_blank_values=True))
                if path == "/v1/events:ingest":
                    return self._ingest(body)
                return self.send_json(404, rpc_error(404, "not found"))

            def _token(self, form: dict[str, list[str]]) -> None:
                stub.token_requests += 1

                def one(name: str) -> str:
                    return form.get(name, [""])[0]

                if one("grant_type") != "refresh_token":
                    return self.send_json(400, {"error": "unsupported_grant_type"})
                if one("client_id") != stub.client_id or one("client_secret") != stub.client_secret:
                    return self.send_json(
                        401, {"error": "invalid_client", "error_description": "Unauthorized"}
                    )
                if one("refresh_token") != stub.refresh_token:
                    return self.send_json(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "Token has been expired or revoked.",
                        },
                    )
                token = "ya29." + uuid.uuid4().hex
                stub.tokens.add(token)
                self.send_json(
                    200,
                    {
                        "access_token": token,
                        "expires_in": stub.expires_in,
                        "token_type": "Bearer",
                        "scope": "https://www.googleapis.com/auth/datamanager",
                    },
                )

            def _ingest(self, body: bytes) -> None:
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in stub.tokens:
                    return self.send_json(
                        401, rpc_error(401, "Request had invalid authentication credentials.")
                    )
                if stub.fail_next is not None:
                    status, message, reason = stub.fail_next
                    stub.fail_next = None
                    return self.send_json(status, rpc_error(status, message, reason))
                try:
                    data = json.loads(body)
                    request = IngestEventsRequest.from_json(body.decode())
                except Exception as exc:  # any parse failure is a 400
                    return self.send_json(400, rpc_error(400, f"Invalid JSON payload: {exc}"))
                problem = check(request)
                if problem is not None:
                    return self.send_json(400, rpc_error(400, problem[1], problem[0]))
                stub.ingested.append(data)
                self.send_json(200, {"requestId": str(uuid.uuid4())})

        def check(request: IngestEventsRequest) -> tuple[str, str] | None:
            if not request.destinations:
                return "REQUIRED_FIELD_MISSING", "destinations is required"
            for destination in request.destinations:
                account = destination.operating_account
                if (
                    account.account_type.name != "GOOGLE_ADS"
                    or account.account_id not in stub.accounts
                ):
                    return "INVALID_DESTINATION", "operating account not found"
                if destination.product_destination_id not in stub.conversion_actions:
                    return "INVALID_CONVERSION_ACTION_ID", "conversion action not found"
            if not 1 <= len(request.events) <= 2000:
                return "TOO_MANY_EVENTS", "1 to 2000 events per request"
            for event in request.events:
                if not event.event_timestamp:
                    return "REQUIRED_FIELD_MISSING", "event_timestamp is required"
                ids = event.ad_identifiers
                if sum(bool(v) for v in (ids.gclid, ids.gbraid, ids.wbraid)) != 1:
                    return "NO_IDENTIFIERS_PROVIDED", "exactly one of gclid, gbraid, wbraid"
            return None

        self._server, self.base_url = serve(Handler)
        return self

    def stop(self) -> None:
        stop_serving(self._server)
