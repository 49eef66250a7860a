"""GA4 Measurement Protocol limits and reserved names, checked before anything is sent.

The live `/mp/collect` endpoint answers 2xx to a malformed payload and drops it silently, so
every documented rule is enforced here; a problem carries the validation code Google's debug
endpoint would use and words a marketer understands. Pure: no I/O, no clock.

Rules (Google's "Sending events" limitations and reserved-names pages):
- at most 25 events a request, 25 parameters an event, 25 user properties;
- event and parameter names: at most 40 characters, letters, digits and underscores, starting
  with a letter; reserved event names and the reserved prefixes `_`, `firebase_`, `ga_`,
  `google_`, `gtag.` are refused;
- parameter values: at most 100 characters; user-property names at most 24 characters, values
  at most 36;
- a `value` needs a `currency` (ISO 4217, three capital letters), or GA4 ignores the value;
- the body under 130 kB; events back-dated by at most 72 hours.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_EVENTS = 25
MAX_PARAMS = 25
MAX_USER_PROPERTIES = 25
MAX_NAME_LENGTH = 40
MAX_PARAM_VALUE_LENGTH = 100
MAX_USER_PROPERTY_NAME_LENGTH = 24
MAX_USER_PROPERTY_VALUE_LENGTH = 36
MAX_BODY_BYTES = 130_000
MAX_BACKDATE_MICROS = 72 * 3600 * 1_000_000

RESERVED_EVENT_NAMES = frozenset(
    {
        "ad_activeview",
        "ad_click",
        "ad_exposure",
        "ad_impression",
        "ad_query",
        "ad_reward",
        "adunit_exposure",
        "app_background",
        "app_clear_data",
        "app_exception",
        "app_install",
        "app_remove",
        "app_store_refund",
        "app_store_subscription_cancel",
        "app_store_subscription_convert",
        "app_store_subscription_renew",
        "app_update",
        "app_upgrade",
        "click",
        "dynamic_link_app_open",
        "dynamic_link_app_update",
        "dynamic_link_first_open",
        "error",
        "file_download",
        "firebase_campaign",
        "firebase_in_app_message_action",
        "firebase_in_app_message_dismiss",
        "firebase_in_app_message_impression",
        "first_open",
        "first_visit",
        "form_start",
        "form_submit",
        "in_app_purchase",
        "notification_dismiss",
        "notification_foreground",
        "notification_open",
        "notification_receive",
        "notification_send",
        "os_update",
        "page_view",
        "screen_view",
        "scroll",
        "session_start",
        "user_engagement",
        "video_complete",
        "video_progress",
        "video_start",
        "view_search_results",
    }
)
RESERVED_PARAM_NAMES = frozenset({"firebase_conversion"})
RESERVED_USER_PROPERTY_NAMES = frozenset(
    {
        "first_open_after_install",
        "first_open_time",
        "first_visit_time",
        "last_deep_link_referrer",
        "user_id",
    }
)
RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
RESERVED_USER_PROPERTY_PREFIXES = ("_", "firebase_", "ga_", "google_")

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CLIENT_ID = re.compile(r"\d{1,20}\.\d{1,20}")


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (`field_path`, as GA4's debug endpoint writes it), the code GA4
    uses for it, and the words for the delivery log."""

    field_path: str
    code: str
    words: str


def event_name_problem(name: object, path: str = "events[0].name") -> Problem | None:
    """Why `name` cannot be a GA4 event name, or None when it can."""
    if not isinstance(name, str) or not name:
        return Problem(path, "VALUE_REQUIRED", "the GA4 event has no name")
    problem = _name_problem(name, path, "event name", MAX_NAME_LENGTH, RESERVED_PREFIXES)
    if problem is not None:
        return problem
    if name in RESERVED_EVENT_NAMES:
        return Problem(
            path, "NAME_RESERVED", f'"{name}" is an event name GA4 keeps for its own events'
        )
    return None


def check_payload(payload: Mapping[str, Any], now_micros: int | None = None) -> list[Problem]:
    """Every documented rule `payload` (a web-stream request body) breaks; empty when none.

    With `now_micros`, a `timestamp_micros` older than 72 hours or in the future is a problem.
    Never raises, whatever `payload` holds.
    """
    problems: list[Problem] = []
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        problems.append(
            Problem(
                "client_id",
                "VALUE_INVALID" if client_id else "VALUE_REQUIRED",
                "the GA client id is missing or is not the <number>.<number> the _ga cookie holds",
            )
        )
    problems.extend(
        _timestamp_problems(payload.get("timestamp_micros"), "timestamp_micros", now_micros)
    )
    problems.extend(_user_property_problems(payload.get("user_properties")))
    events = payload.get("events")
    if not isinstance(events, list) or not events:
        problems.append(Problem("events", "VALUE_REQUIRED", "the request holds no GA4 event"))
    else:
        if len(events) > MAX_EVENTS:
            problems.append(
                Problem(
                    "events",
                    "EXCEEDED_MAX_ENTITIES",
                    f"{len(events)} events in one request; GA4 takes at most {MAX_EVENTS}",
                )
            )
        for index, event in enumerate(events[: MAX_EVENTS + 1]):
            problems.extend(_event_problems(event, f"events[{index}]", now_micros))
    size = _body_bytes(payload)
    if size is None:
        if problems:  # a value already named (NaN, an object) is why
            return problems
        problems.append(Problem("", "VALUE_INVALID", "the request cannot be written as JSON"))
    elif size >= MAX_BODY_BYTES:
        problems.append(
            Problem(
                "",
                "VALUE_OUT_OF_BOUNDS",
                f"the request is {size} bytes; GA4 takes less than {MAX_BODY_BYTES}",
            )
        )
    return problems


def _event_problems(event: object, path: str, now_micros: int | None) -> list[Problem]:
    if not isinstance(event, Mapping):
        return [Problem(path, "VALUE_INVALID", "a GA4 event must be an object")]
    problems: list[Problem] = []
    name_problem = event_name_problem(event.get("name"), f"{path}.name")
    if name_problem is not None:
        problems.append(name_problem)
    problems.extend(
        _timestamp_problems(event.get("timestamp_micros"), f"{path}.timestamp_micros", now_micros)
    )
    params = event.get("params", {})
    if not isinstance(params, Mapping):
        return [
            *problems,
            Problem(f"{path}.params", "VALUE_INVALID", "event params must be an object"),
        ]
    if len(params) > MAX_PARAMS:
        problems.append(
            Problem(
                f"{path}.params",
                "EXCEEDED_MAX_ENTITIES",
                f"{len(params)} parameters on one event; GA4 takes at most {MAX_PARAMS}",
            )
        )
    for key, value in params.items():
        param_path = f"{path}.params.{key}"
        if not isinstance(key, str):
            problems.append(Problem(param_path, "NAME_INVALID", "a parameter name must be text"))
            continue
        problem = _name_problem(
            key, param_path, "parameter name", MAX_NAME_LENGTH, RESERVED_PREFIXES
        )
        if problem is None and key in RESERVED_PARAM_NAMES:
            problem = Problem(
                param_path, "NAME_RESERVED", f'"{key}" is a parameter GA4 keeps for itself'
            )
        if problem is not None:
            problems.append(problem)
        if key != "items":
            problems.extend(
                _scalar_problems(value, param_path, f'parameter "{key}"', MAX_PARAM_VALUE_LENGTH)
            )
    problems.extend(_value_problems(params, f"{path}.params"))
    return problems


def _value_problems(params: Mapping[Any, Any], path: str) -> list[Problem]:
    if "value" not in params:
        return []
    value = params["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [Problem(f"{path}.value", "VALUE_INVALID", "the conversion value must be a number")]
    currency = params.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        return [
            Problem(
                f"{path}.currency",
                "VALUE_REQUIRED" if currency is None else "VALUE_INVALID",
                "a value needs its currency as three capital letters (ISO 4217, e.g. UAH); "
                "without it GA4 ignores the value",
            )
        ]
    return []


def _user_property_problems(properties: object) -> list[Problem]:
    if properties is None:
        return []
    if not isinstance(properties, Mapping):
        return [Problem("user_properties", "VALUE_INVALID", "user properties must be an object")]
    problems: list[Problem] = []
    if len(properties) > MAX_USER_PROPERTIES:
        problems.append(
            Problem(
                "user_properties",
                "EXCEEDED_MAX_ENTITIES",
                f"{len(properties)} user properties; GA4 takes at most {MAX_USER_PROPERTIES}",
            )
        )
    for key, holder in properties.items():
        path = f"user_properties.{key}"
        if not isinstance(key, str):
            problems.append(Problem(path, "NAME_INVALID", "a user property name must be text"))
            continue
        problem = _name_problem(
            key,
            path,
            "user property name",
            MAX_USER_PROPERTY_NAME_LENGTH,
            RESERVED_USER_PROPERTY_PREFIXES,
        )
        if problem is None and key in RESERVED_USER_PROPERTY_NAMES:
            problem = Problem(
                path, "NAME_RESERVED", f'"{key}" is a user property GA4 keeps for itself'
            )
        if problem is not None:
            problems.append(problem)
        if not isinstance(holder, Mapping) or "value" not in holder:
            problems.append(
                Problem(path, "VALUE_REQUIRED", f'user property "{key}" needs {{"value": …}}')
            )
            continue
        problems.extend(
            _scalar_problems(
                holder["value"],
                f"{path}.value",
                f'user property "{key}"',
                MAX_USER_PROPERTY_VALUE_LENGTH,
            )
        )
    return problems


def _name_problem(
    name: str, path: str, what: str, max_length: int, reserved_prefixes: tuple[str, ...]
) -> Problem | None:
    if len(name) > max_length:
        return Problem(
            path, "NAME_INVALID", f'the {what} "{name[:60]}" is longer than {max_length} characters'
        )
    for prefix in reserved_prefixes:
        if name.startswith(prefix):
            return Problem(
                path,
                "NAME_RESERVED",
                f'the {what} "{name}" starts with "{prefix}", which GA4 reserves',
            )
    if not _NAME.fullmatch(name):
        return Problem(
            path,
            "NAME_INVALID",
            f'the {what} "{name}" may hold only letters, digits and underscores and must start '
            "with a letter",
        )
    return None


def _scalar_problems(value: object, path: str, what: str, max_length: int) -> list[Problem]:
    if isinstance(value, str):
        if len(value) > max_length:
            return [
                Problem(
                    path,
                    "VALUE_OUT_OF_BOUNDS",
                    f"the {what} is longer than {max_length} characters",
                )
            ]
        return []
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return []
    if isinstance(value, float) and math.isfinite(value):
        return []
    return [Problem(path, "VALUE_INVALID", f"the {what} must be text or a number")]


def _timestamp_problems(value: object, path: str, now_micros: int | None) -> list[Problem]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return [
            Problem(path, "VALUE_INVALID", "the event time must be whole microseconds since 1970")
        ]
    if now_micros is None:
        return []
    if value < now_micros - MAX_BACKDATE_MICROS:
        return [
            Problem(
                path,
                "VALUE_OUT_OF_BOUNDS",
                "the call is more than 72 hours old; GA4 takes events back-dated by at most 72 "
                "hours",
            )
        ]
    if value > now_micros:
        return [Problem(path, "VALUE_OUT_OF_BOUNDS", "the event time is in the future")]
    return []


def _body_bytes(payload: Mapping[str, Any]) -> int | None:
    try:
        return len(json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        return None
