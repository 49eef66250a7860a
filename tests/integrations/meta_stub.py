"""A local HTTP server speaking the Meta Conversions API endpoint as Meta documents it.

`POST /{api version}/{pixel id}/events` with `access_token` and `data` (a JSON array of events)
in a JSON body, a form body (`data` then a JSON string, as Meta's own SDK sends it) or the
query. It answers 200 `{"events_received": N, "messages": [], "fbtrace_id": "…"}`, or a Graph
API error object `{"error": {"message", "type", "code", "error_subcode", "error_user_title",
"error_user_msg", "fbtrace_id"}}` with HTTP 400:

- a wrong token: code 190 (`OAuthException`);
- an unknown pixel: code 100, subcode 33 (`GraphMethodException`);
- no `data`, or an event without `event_name`, an integer `event_time`, `action_source` or
  `user_data`: code 100;
- an event older than 7 days (by the stub's `now`): code 100 with a user title and message,
  and the whole request fails, as Meta says one old event fails it;
- a `ph`, `em` or `external_id` that is not a SHA-256 hex digest, or a hashed `fbc`/`fbp`:
  code 100. (The subcodes beyond 33 are the stub's own, not Meta's.)

`fail_next` makes the next request answer a chosen status and error (a 500 with code 2 and
`is_transient`, a rate limit with code 17...). Accepted events are kept in `events`, with the
`test_event_code` of their request in `test_codes`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http_stub import StubHandler, serve, stop_serving

_SHA256 = re.compile(r"[0-9a-f]{64}")
SEVEN_DAYS = 7 * 24 * 3600
ACTION_SOURCES = {
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
}


@dataclass
class MetaStub:
    pixel_id: str
    access_token: str
    events: list[dict[str, Any]] = field(default_factory=list)
    test_codes: list[str | None] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: tuple[int, dict[str, Any]] | None = None
    now: Callable[[], float] = time.time
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> MetaStub:
        stub = self

        class Handler(StubHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                params = {key: values[0] for key, values in parse_qs(parts.query).items()}
                params.update(self._body())
                stub.requests.append({"path": parts.path, "params": params})
                if stub.fail_next is not None:
                    (status, error), stub.fail_next = stub.fail_next, None
                    return self._error(status, error)
                segments = parts.path.strip("/").split("/")
                if len(segments) != 3 or segments[2] != "events":
                    return self._error(400, {"code": 100, "message": "Unknown path"})
                if params.get("access_token") != stub.access_token:
                    return self._error(
                        400,
                        {
                            "message": "Invalid OAuth access token - Cannot parse access token",
                            "type": "OAuthException",
                            "code": 190,
                        },
                    )
                if segments[1] != stub.pixel_id:
                    return self._error(
                        400,
                        {
                            "message": f"Unsupported post request. Object with ID "
                            f"'{segments[1]}' does not exist, cannot be loaded due to missing "
                            "permissions, or does not support this operation.",
                            "type": "GraphMethodException",
                            "code": 100,
                            "error_subcode": 33,
                        },
                    )
                data = params.get("data")
                if isinstance(data, str):
                    data = json.loads(data)
                if not isinstance(data, list) or not data:
                    return self._error(400, {"code": 100, "message": "(#100) data is required"})
                events = [json.loads(e) if isinstance(e, str) else e for e in data]
                for event in events:
                    problem = stub.problem(event)
                    if problem is not None:
                        return self._error(400, problem)
                stub.events.extend(events)
                stub.test_codes.extend([params.get("test_event_code")] * len(events))
                self.send_json(
                    200,
                    {"events_received": len(events), "messages": [], "fbtrace_id": _trace()},
                )

            def _body(self) -> dict[str, Any]:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if not raw:
                    return {}
                if "json" in (self.headers.get("Content-Type") or ""):
                    loaded = json.loads(raw)
                    return loaded if isinstance(loaded, dict) else {}
                return {key: values[0] for key, values in parse_qs(raw).items()}

            def _error(self, status: int, error: dict[str, Any]) -> None:
                self.send_json(
                    status, {"error": {"type": "OAuthException", **error, "fbtrace_id": _trace()}}
                )

        self._server, self.base_url = serve(Handler)
        return self

    def stop(self) -> None:
        stop_serving(self._server)

    def problem(self, event: Any) -> dict[str, Any] | None:
        """The Graph error one event earns, or None when Meta would take it."""
        if not isinstance(event, dict):
            return {"code": 100, "message": "(#100) Event must be an object"}
        for key in ("event_name", "event_time", "action_source", "user_data"):
            if key not in event:
                return {"code": 100, "message": f"(#100) The parameter {key} is required"}
        if not isinstance(event["event_time"], int):
            return {"code": 100, "message": "(#100) event_time must be an integer"}
        if event["action_source"] not in ACTION_SOURCES:
            return {"code": 100, "message": "(#100) Invalid action_source"}
        if event["event_time"] < self.now() - SEVEN_DAYS:
            return {
                "code": 100,
                "error_subcode": 2804003,
                "error_user_title": "Event Timestamp Too Old",
                "error_user_msg": "The timestamp for this event is too far in the past. Events "
                "need to be sent from your server within 7 days of when they occurred.",
                "message": "Invalid parameter",
            }
        user_data = event["user_data"]
        if not isinstance(user_data, dict) or not user_data:
            return {"code": 100, "message": "(#100) user_data must not be empty"}
        for key in ("ph", "em", "external_id"):
            for value in user_data.get(key, []):
                if not _SHA256.fullmatch(str(value)):
                    return {
                        "code": 100,
                        "error_subcode": 2804019,
                        "error_user_title": "Invalid hashed value",
                        "error_user_msg": f"{key} must be a SHA-256 hash",
                        "message": "Invalid parameter",
                    }
        for key in ("fbc", "fbp"):
            if key in user_data and not str(user_data[key]).startswith("fb."):
                return {"code": 100, "message": f"(#100) {key} must not be hashed"}
        return None


def _trace() -> str:
    return "A" + uuid.uuid4().hex[:22]
