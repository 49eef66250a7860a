"""A local HTTP server speaking the GA4 Measurement Protocol as Google documents it.

- `POST /mp/collect?measurement_id=G-…&api_secret=…` answers 204 with an empty body whatever
  the body holds (the live endpoint "does not return HTTP error codes"); every request is kept
  in `hits` (its query and parsed body) so a test sees what arrived.
- `POST /debug/mp/collect` answers 200 `{"validationMessages": [...]}`, each message with
  `fieldPath`, `description` and `validationCode`; empty when the body passes. Its checks are
  written here on their own, not borrowed from Ringtrail's validator: a client id, 1 to 25
  events, names of at most 40 letters, digits and underscores starting with a letter, no
  reserved event name, parameter values of at most 100 characters. Like the real one it does
  not check the api_secret.
- `fail_next` makes the next request answer that HTTP status (a 5xx outage, a 403...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http_stub import StubHandler, serve, stop_serving

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
_RESERVED = {"first_visit", "session_start", "user_engagement", "page_view", "error"}


@dataclass
class Ga4Hit:
    """One request the stub got."""

    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Ga4Stub:
    hits: list[Ga4Hit] = field(default_factory=list)
    fail_next: int | None = None
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Ga4Stub:
        stub = self

        class Handler(StubHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                stub.hits.append(Ga4Hit(parts.path, query, body))
                if stub.fail_next is not None:
                    status, stub.fail_next = stub.fail_next, None
                    return self.send_bytes(status)
                if parts.path == "/mp/collect":
                    return self.send_bytes(204)
                if parts.path == "/debug/mp/collect":
                    messages = debug_messages(body)
                    return self.send_json(200, {"validationMessages": messages})
                return self.send_bytes(404)

        self._server, self.base_url = serve(Handler)
        return self

    def stop(self) -> None:
        stop_serving(self._server)


def debug_messages(body: Any) -> list[dict[str, str]]:
    """What the validation server says about `body`."""

    def message(path: str, code: str, description: str) -> dict[str, str]:
        return {"fieldPath": path, "description": description, "validationCode": code}

    if not isinstance(body, dict):
        return [message("", "VALUE_INVALID", "Unable to parse the JSON payload.")]
    found = []
    if not body.get("client_id"):
        found.append(message("client_id", "VALUE_REQUIRED", "client_id is required."))
    events = body.get("events")
    if not isinstance(events, list) or not events:
        return [*found, message("events", "VALUE_REQUIRED", "At least one event is required.")]
    if len(events) > 25:
        found.append(message("events", "EXCEEDED_MAX_ENTITIES", "A maximum of 25 events."))
    for event in events:
        name = event.get("name", "") if isinstance(event, dict) else ""
        if not _NAME.fullmatch(str(name)):
            found.append(
                message(
                    "events",
                    "NAME_INVALID",
                    f"Event at index: [0] has invalid name [{name}]. Names must start with an "
                    "alphabetic character and only contain alphanumeric characters and "
                    "underscores.",
                )
            )
        elif name in _RESERVED:
            found.append(
                message(
                    "events",
                    "NAME_RESERVED",
                    f"Event at index: [0] has name [{name}] which is reserved.",
                )
            )
        params = event.get("params", {}) if isinstance(event, dict) else {}
        for key, value in params.items():
            if isinstance(value, str) and len(value) > 100:
                found.append(
                    message(
                        f"events.params.{key}",
                        "VALUE_OUT_OF_BOUNDS",
                        f"Value of parameter [{key}] is too long.",
                    )
                )
    return found
