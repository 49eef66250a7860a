"""Zadarma PBX notifications: their signature, and NOTIFY_START/ANSWER/END/RECORD as call events.

Zadarma posts a form per moment of an incoming call (docs/telephony/zadarma.md). The
`Signature` header is base64 of the *hex text* of HMAC-SHA1(API secret, S), where S joins
fields that depend on the event. Times (`call_start`) are local text in the PBX's time zone,
so the caller passes that zone. Zadarma gives no time for the answer or the end; those
moments are the arrival time when it is plausible, else derived from `call_start` and
`duration`, so a late redelivery never stretches a call.

A recording is not a URL yet: it has to be requested through Zadarma's REST API, and the
link it gives expires. The event therefore carries `zadarma-record:<pbx_call_id>:<call_id>`,
which the recordings job resolves at fetch time (`ringtrail.telephony.zadarma_api`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.telephony.errors import BadSignature, InvalidPayload

PROVIDER = "zadarma"
RECORDING_SCHEME = "zadarma-record:"

NOTIFY_START = "NOTIFY_START"
NOTIFY_ANSWER = "NOTIFY_ANSWER"
NOTIFY_END = "NOTIFY_END"
NOTIFY_RECORD = "NOTIFY_RECORD"
HANDLED_EVENTS = frozenset({NOTIFY_START, NOTIFY_ANSWER, NOTIFY_END, NOTIFY_RECORD})
IGNORED_EVENTS = frozenset({"NOTIFY_INTERNAL", "NOTIFY_IVR", "NOTIFY_OUT_START", "NOTIFY_OUT_END"})
"""Internal, IVR and outgoing-call notifications: answered 200 and dropped (not calls in)."""

SERVER_ADDRESSES = ("185.45.152.42",)
"""The address Zadarma sends notifications from, as Zadarma's API page (my.zadarma.com/api/,
at its foot) gives it; checked only with RINGTRAIL_ZADARMA_CHECK_SENDER."""

SIGNED_FIELDS: Mapping[str, tuple[str, ...]] = {
    NOTIFY_START: ("caller_id", "called_did", "call_start"),
    NOTIFY_END: ("caller_id", "called_did", "call_start"),
    NOTIFY_ANSWER: ("caller_id", "destination", "call_start"),
    NOTIFY_RECORD: ("pbx_call_id", "call_id_with_rec"),
}
"""The fields whose values, joined in this order, are signed (Zadarma's PHP SDK, 2023)."""

DISPOSITIONS: Mapping[str, CallOutcome] = {
    "answered": CallOutcome.ANSWERED,
    "busy": CallOutcome.BUSY,
    "cancel": CallOutcome.CANCELED,
    "no answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "no money": CallOutcome.FAILED,
    "unallocated number": CallOutcome.FAILED,
    "no limit": CallOutcome.FAILED,
    "no day limit": CallOutcome.FAILED,
    "line limit": CallOutcome.FAILED,
    "no money, no limit": CallOutcome.FAILED,
}
"""NOTIFY_END `disposition` → outcome; an unknown disposition gives no outcome."""

LIVE_WINDOW = timedelta(minutes=30)
"""An answer or end arriving this long after its earliest possible moment is a redelivery."""
MAX_ID_LENGTH = 120
CALL_START_FORMAT = "%Y-%m-%d %H:%M:%S"


def sign(secret: str, text: str) -> str:
    """Zadarma's signature of `text`: base64 of the hex HMAC-SHA1 digest (not of the raw one)."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def signed_text(form: Mapping[str, str]) -> str:
    """The text Zadarma signed for this notification.

    A signed field that is empty or absent (`caller_id` of a hidden number) is joined as an
    empty string, as Zadarma's SDK joins it; whether the rest is usable is the parser's
    question, asked after the signature.
    """
    event = form.get("event", "")
    fields = SIGNED_FIELDS.get(event)
    if fields is None:
        raise InvalidPayload(f"event {event!r} is not a signed call notification")
    return "".join(form.get(name, "") for name in fields)


def verify_signature(form: Mapping[str, str], signature: str | None, secret: str) -> None:
    """Raise `BadSignature` unless `signature` is Zadarma's for this form (constant time)."""
    if not secret:
        raise BadSignature("no Zadarma API secret is configured")
    if not signature:
        raise BadSignature("the Signature header is missing")
    expected = sign(secret, signed_text(form))
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise BadSignature("the Signature header does not match")


def recording_ref(pbx_call_id: str, call_id_with_rec: str) -> str:
    """The recording URL an event carries until the recordings job asks Zadarma for the file."""
    return f"{RECORDING_SCHEME}{pbx_call_id}:{call_id_with_rec}"


def parse_recording_ref(url: str) -> tuple[str, str]:
    """`(pbx_call_id, call_id_with_rec)` of a `zadarma-record:` URL; ValueError otherwise."""
    if not url.startswith(RECORDING_SCHEME):
        raise ValueError(f"not a Zadarma recording reference: {url!r}")
    pbx_call_id, sep, call_id = url[len(RECORDING_SCHEME) :].rpartition(":")
    if not sep or not pbx_call_id or not call_id:
        raise ValueError(f"malformed Zadarma recording reference: {url!r}")
    return pbx_call_id, call_id


def parse_notification(
    form: Mapping[str, str], *, timezone: ZoneInfo, received_at: datetime
) -> list[CallEvent]:
    """The call events of one (already verified) notification; [] for ignored event types.

    `timezone` is the PBX's, in which `call_start` is written; `received_at` (aware) is when
    the notification arrived.
    """
    event = form.get("event", "")
    if not event:
        raise InvalidPayload("the event field is missing")
    if event not in HANDLED_EVENTS:
        return []
    pbx_call_id = _call_id(form, "pbx_call_id")
    payload = dict(form)
    if event == NOTIFY_RECORD:
        rec_id = _call_id(form, "call_id_with_rec")
        return [_recording_event(pbx_call_id, rec_id, received_at, payload)]

    call_start = parse_call_start(form.get("call_start", ""), timezone)
    caller = form.get("caller_id") or None
    if event == NOTIFY_START:
        return [
            CallEvent(
                provider=PROVIDER,
                provider_call_id=pbx_call_id,
                kind=CallEventKind.STARTED,
                occurred_at=call_start,
                dedupe_key=f"{PROVIDER}:{pbx_call_id}:start",
                dialled=form.get("called_did") or None,
                caller=caller,
                payload=payload,
            )
        ]
    if event == NOTIFY_ANSWER:
        destination = form.get("destination") or form.get("internal") or ""
        return [
            CallEvent(
                provider=PROVIDER,
                provider_call_id=pbx_call_id,
                kind=CallEventKind.ANSWERED,
                occurred_at=_live_moment(call_start, received_at),
                dedupe_key=f"{PROVIDER}:{pbx_call_id}:answer:{destination[:MAX_ID_LENGTH]}",
                caller=caller,
                forwarded_to=destination or None,
                payload=payload,
            )
        ]
    return _end_events(form, pbx_call_id, call_start, received_at, payload)


def _end_events(
    form: Mapping[str, str],
    pbx_call_id: str,
    call_start: datetime,
    received_at: datetime,
    payload: dict[str, str],
) -> list[CallEvent]:
    disposition = form.get("disposition", "").strip().lower()
    outcome = DISPOSITIONS.get(disposition)
    duration = _seconds(form, "duration")
    talk = duration if outcome is CallOutcome.ANSWERED else 0
    ended_at = _live_moment(call_start + timedelta(seconds=talk), received_at)
    events = [
        CallEvent(
            provider=PROVIDER,
            provider_call_id=pbx_call_id,
            kind=CallEventKind.ENDED,
            occurred_at=ended_at,
            dedupe_key=f"{PROVIDER}:{pbx_call_id}:end",
            dialled=form.get("called_did") or None,
            caller=form.get("caller_id") or None,
            forwarded_to=form.get("internal") or None,
            outcome=outcome,
            total_seconds=int((ended_at - call_start).total_seconds()),
            talk_seconds=talk if outcome is not None else None,
            payload=payload,
        )
    ]
    rec_id = form.get("call_id_with_rec", "")
    if form.get("is_recorded") == "1" and rec_id:
        rec_id = _call_id(form, "call_id_with_rec")
        events.append(_recording_event(pbx_call_id, rec_id, ended_at, payload))
    return events


def _recording_event(
    pbx_call_id: str, rec_id: str, occurred_at: datetime, payload: dict[str, str]
) -> CallEvent:
    # NOTIFY_END (is_recorded=1) and NOTIFY_RECORD share this key: one fetch per recording.
    return CallEvent(
        provider=PROVIDER,
        provider_call_id=pbx_call_id,
        kind=CallEventKind.RECORDING_READY,
        occurred_at=occurred_at,
        dedupe_key=f"{PROVIDER}:{pbx_call_id}:record:{rec_id}",
        recording_url=recording_ref(pbx_call_id, rec_id),
        payload=payload,
    )


def parse_call_start(text: str, timezone: ZoneInfo) -> datetime:
    """`call_start` ("YYYY-MM-DD HH:MM:SS", PBX local time) as an aware UTC datetime."""
    try:
        local = datetime.strptime(text.strip(), CALL_START_FORMAT)
    except ValueError:
        raise InvalidPayload(f"call_start {text!r} is not a 'YYYY-MM-DD HH:MM:SS' time") from None
    return local.replace(tzinfo=timezone).astimezone(UTC)


def _live_moment(earliest: datetime, received_at: datetime) -> datetime:
    """The arrival time when it is plausible for a live notification, else `earliest`."""
    if earliest <= received_at <= earliest + LIVE_WINDOW:
        return received_at.astimezone(UTC)
    return earliest


def _call_id(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InvalidPayload(f"{name} is missing")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidPayload(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return value


def _seconds(form: Mapping[str, str], name: str) -> int:
    text = form.get(name, "").strip() or "0"
    if not text.isdigit():
        raise InvalidPayload(f"{name} {text!r} is not a whole number of seconds")
    return int(text)
