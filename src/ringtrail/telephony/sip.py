"""The SIP adapter: one JSON event message from Ringtrail's Kamailio edge in, call events out.

`deploy/kamailio/kamailio.cfg` publishes one message per call moment (docs/telephony/sip.md):

- `started` (the INVITE): `call_id`, `did`, `caller`, `source` (the address the INVITE
  came from: the carrier's trunk), `ts`;
- `answered` (200 OK, `dialog:start`): the same fields;
- `ended` (BYE or timeout, `dialog:end`): also `ts_started` and `ts_answered`;
- `failed` (a final reply >= 300, `dialog:failed`): also `ts_started` and `sip_code`.

Timestamps are Unix seconds with microseconds, as a string (`"1795438720.681033"`) or a
number. Durations are computed here from those timestamps, rounded to the nearest second.
A `failed` message becomes an `ended` event whose outcome comes from the SIP code.

When Kamailio cannot publish a message even after retrying, it logs it on one line after
`UNSENT_MARKER`; `unsent_messages` finds those lines again so they can be replayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome, sip_outcome
from ringtrail.telephony.errors import InvalidPayload

PROVIDER = "sip"
EVENTS = ("started", "answered", "ended", "failed")
UNSENT_MARKER = "ringtrail-sip-event-unsent "
"""What deploy/kamailio/kamailio.cfg logs before a message it could not publish."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unsent_messages(lines: Iterable[str]) -> Iterator[str]:
    """The event messages in Kamailio log lines that carry `UNSENT_MARKER`, in order."""
    for line in lines:
        _, marker, message = line.partition(UNSENT_MARKER)
        if marker and message.strip():
            yield message.strip()


def parse_sip_event(body: bytes | str) -> list[CallEvent]:
    """The call events one Kamailio message stands for; InvalidPayload says what is wrong."""
    message = _decode(body)
    event = message.get("event")
    if event not in EVENTS:
        raise InvalidPayload(f"unknown event {event!r}; expected one of {', '.join(EVENTS)}")
    call_id = message.get("call_id")
    if not isinstance(call_id, str) or not call_id.strip():
        raise InvalidPayload("call_id is missing")
    call_id = call_id.strip()
    at = _timestamp(message, "ts", required=True)
    assert at is not None
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_call_id": call_id,
        "occurred_at": _to_datetime(at),
        "dedupe_key": f"{PROVIDER}:{call_id}:{event}",
        "dialled": _text(message, "did"),
        "caller": _text(message, "caller"),
        "payload": dict(message),
    }
    if event == "started":
        return [CallEvent(kind=CallEventKind.STARTED, **common)]
    if event == "answered":
        return [CallEvent(kind=CallEventKind.ANSWERED, **common)]
    started = _timestamp(message, "ts_started")
    total = _seconds_between(started, at)
    if event == "ended":
        answered = _timestamp(message, "ts_answered")
        return [
            CallEvent(
                kind=CallEventKind.ENDED,
                outcome=CallOutcome.ANSWERED if answered is not None else None,
                total_seconds=total,
                talk_seconds=_seconds_between(answered, at) if answered is not None else None,
                **common,
            )
        ]
    return [
        CallEvent(
            kind=CallEventKind.ENDED,
            outcome=sip_outcome(_sip_code(message)),
            total_seconds=total,
            talk_seconds=0,
            **common,
        )
    ]


def _decode(body: bytes | str) -> Mapping[str, Any]:
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidPayload(f"not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise InvalidPayload("the message must be a JSON object")
    return message


def _text(message: Mapping[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidPayload(f"{key} must be a string")
    return str(value).strip() or None


def _timestamp(message: Mapping[str, Any], key: str, *, required: bool = False) -> Decimal | None:
    value = message.get(key)
    if value in (None, ""):
        if required:
            raise InvalidPayload(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidPayload(f"{key} must be Unix seconds, got {value!r}")
    try:
        seconds = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidPayload(f"{key} must be Unix seconds, got {value!r}") from exc
    if not seconds.is_finite() or seconds <= 0 or seconds > 10**11:
        raise InvalidPayload(f"{key} is out of range: {value!r}")
    return seconds


def _to_datetime(seconds: Decimal) -> datetime:
    whole = int(seconds)
    micros = int(((seconds - whole) * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP))
    return _EPOCH + timedelta(seconds=whole, microseconds=micros)


def _seconds_between(start: Decimal | None, end: Decimal) -> int | None:
    if start is None:
        return None
    return max(int((end - start).to_integral_value(rounding=ROUND_HALF_UP)), 0)


def _sip_code(message: Mapping[str, Any]) -> int:
    value = message.get("sip_code")
    code = 0
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            code = int(value)
        except ValueError:
            code = 0
    if not 300 <= code <= 699:
        raise InvalidPayload(f"sip_code must be a final failure code (300-699), got {value!r}")
    return code
