"""Binotel's API CALL COMPLETED: the nested form, one completed call as events, sender addresses.

Binotel posts one form per finished call (`requestType=apiCallCompleted`) with PHP-style
nested keys (`callDetails[generalCallID]`, `callDetails[historyData][0][billsec]`). The
classic API carries no signature: only Binotel's servers may be believed, so the webhook
checks the sender's address (`address_allowed`). Details: docs/telephony/binotel.md.

A completed inbound call becomes started + ended events (+ answered when someone talked,
+ recording when Binotel recorded it). A transferred call may come as one request per leg,
all with one `generalCallID`: each leg's events carry its `leg`, so they make one call with
the legs in its history. The recording is a `binotel-record:<generalCallID>` reference that
the recordings job exchanges for a short-lived link through Binotel's API
(`ringtrail.telephony.binotel_api`). Outbound calls and other request types give no events;
Binotel still gets its `{"status":"success"}`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.telephony.errors import InvalidPayload

PROVIDER = "binotel"
CALL_COMPLETED = "apiCallCompleted"
INBOUND = "0"
OUTBOUND = "1"

LEGACY_SERVER_ADDRESSES = (
    "194.88.218.114",
    "194.88.218.116",
    "194.88.218.117",
    "194.88.218.118",
    "194.88.218.119",
    "194.88.218.120",
    "194.88.219.67",
    "194.88.219.70",
    "194.88.219.71",
    "194.88.219.72",
    "194.88.219.78",
    "194.88.219.79",
    "194.88.219.80",
    "194.88.219.81",
    "194.88.219.82",
    "194.88.219.83",
    "194.88.219.84",
    "194.88.219.85",
    "194.88.219.86",
    "194.88.219.87",
    "194.88.219.88",
    "194.88.219.89",
    "194.88.219.92",
    "185.100.66.145",
    "185.100.66.146",
    "185.100.66.147",
)
"""Binotel's servers as listed on developers.binotel.ua ("List of Binotel servers")."""

CURRENT_SERVER_ADDRESSES = (
    "45.91.130.36",  # api.binotel.com
    *(f"45.91.130.{host}" for host in range(51, 83)),  # sip1.binotel.com ... sip32.binotel.com
    "45.91.129.203",  # GetCall's server
)
"""Binotel's newer servers, as public integrations accepting Binotel's requests list them
(checked 2026-12-07; docs/telephony/binotel.md names the sources)."""

SERVER_ADDRESSES = LEGACY_SERVER_ADDRESSES + CURRENT_SERVER_ADDRESSES
"""Every address Binotel's requests are accepted from without listing anything; the operator
adds more with RINGTRAIL_BINOTEL_SENDER_ADDRESSES, a project's owner with `allowed_ips`."""

PUBLISHED_SERVER_ADDRESSES = LEGACY_SERVER_ADDRESSES
"""The older name of `LEGACY_SERVER_ADDRESSES`."""

DISPOSITIONS: Mapping[str, CallOutcome] = {
    "ANSWER": CallOutcome.ANSWERED,
    "ANSWERED": CallOutcome.ANSWERED,
    "TRANSFER": CallOutcome.ANSWERED,
    "SUCCESS": CallOutcome.ANSWERED,
    "BUSY": CallOutcome.BUSY,
    "NOANSWER": CallOutcome.NO_ANSWER,
    "VM": CallOutcome.NO_ANSWER,
    "VMSUCCESS": CallOutcome.NO_ANSWER,
    "CANCEL": CallOutcome.CANCELED,
    "CONGESTION": CallOutcome.FAILED,
    "CHANUNAVAIL": CallOutcome.FAILED,
    "FAILED": CallOutcome.FAILED,
}
"""`disposition` (spaces, dashes and underscores dropped) → outcome; voicemail is unanswered."""

RECORDING_LINK_FIELDS = ("linkToCallRecordInMyBusiness", "recordingLink", "recordingUrl")
"""Links into Binotel's cabinet (My Business, `https://my.binotel.ua/?module=cdrs...`): they
need a signed-in person, so they stay in the stored request as links for people; the audio
comes from the API (`RECORDING_SCHEME`, ringtrail.telephony.binotel_api)."""
RECORDING_SCHEME = "binotel-record:"
MAX_DEPTH = 6
MAX_ID_LENGTH = 120
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def parse_nested_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """PHP-style nested form keys as nested dicts; a level keyed 0, 1, 2… becomes a list.

    `callDetails[dstNumbers][0][billsec]=5` gives
    `{"callDetails": {"dstNumbers": [{"billsec": "5"}]}}`; `a[]=x` appends. A key that is
    both a value and a parent, or nests deeper than `MAX_DEPTH`, is `InvalidPayload`.
    """
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if match is None:
            raise InvalidPayload(f"form key {raw_key!r} is not a name with [sub] keys")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        if len(path) > MAX_DEPTH:
            raise InvalidPayload(f"form key {raw_key!r} nests deeper than {MAX_DEPTH}")
        node = root
        for depth, part in enumerate(path[:-1]):
            name = part if part else str(len(node))
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise InvalidPayload(f"form key {'/'.join(path[: depth + 1])!r} is given twice")
            node = child
        last = path[-1] if path[-1] else str(len(node))
        if isinstance(node.get(last), dict):
            raise InvalidPayload(f"form key {raw_key!r} is given twice")
        node[last] = value
    return _lists_from_indexes(root)


def _lists_from_indexes(node: dict[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        items = {key: convert(child) for key, child in value.items()}
        if items and all(key.isdigit() for key in items):
            return [items[key] for key in sorted(items, key=int)]
        return items

    return {key: convert(value) for key, value in node.items()}


def parse_call_completed(data: Mapping[str, Any]) -> list[CallEvent]:
    """The events of one parsed Binotel request; [] for other request types and outbound calls."""
    request_type = _text(data.get("requestType"))
    if not request_type:
        raise InvalidPayload("requestType is missing")
    if request_type != CALL_COMPLETED:
        return []
    details = data.get("callDetails")
    if not isinstance(details, dict):
        raise InvalidPayload("callDetails is missing")
    call_type = _text(details.get("callType"))
    if call_type not in (INBOUND, OUTBOUND):
        raise InvalidPayload(f"callDetails[callType] {call_type!r} is neither 0 (in) nor 1 (out)")
    general_id = _identifier(details, "generalCallID")
    if call_type == OUTBOUND:
        return []
    started_at = _start_time(details)
    leg = leg_of(details, general_id)
    wait = _seconds(details, "waitsec")
    bill = _seconds(details, "billsec")
    outcome = DISPOSITIONS.get(re.sub(r"[\s_\-]", "", _text(details.get("disposition")).upper()))
    talked = bill > 0 and outcome in (CallOutcome.ANSWERED, None)
    talk = bill if talked else 0
    if talked:
        outcome = CallOutcome.ANSWERED
    ended_at = started_at + timedelta(seconds=wait + talk)
    payload = dict(data)
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_call_id": general_id,
        "dialled": dialled_number(details),
        "caller": _text(details.get("externalNumber")) or None,
        "leg": leg,
        "payload": payload,
    }
    key = f"{PROVIDER}:{general_id}:{leg}"
    events = [
        CallEvent(
            kind=CallEventKind.STARTED,
            occurred_at=started_at,
            dedupe_key=f"{key}:started",
            **common,
        )
    ]
    forwarded_to = _text(details.get("internalNumber")) or None
    if talked:
        events.append(
            CallEvent(
                kind=CallEventKind.ANSWERED,
                occurred_at=started_at + timedelta(seconds=wait),
                dedupe_key=f"{key}:answered",
                forwarded_to=forwarded_to,
                **common,
            )
        )
    events.append(
        CallEvent(
            kind=CallEventKind.ENDED,
            occurred_at=ended_at,
            dedupe_key=f"{key}:ended",
            forwarded_to=forwarded_to,
            outcome=outcome,
            total_seconds=wait + talk,
            talk_seconds=talk,
            **common,
        )
    )
    if talked and has_recording(details):
        # Every leg of a transferred call names the same recording (the API gives the call's
        # by its generalCallID): one key per call, so it is fetched once.
        events.append(
            CallEvent(
                kind=CallEventKind.RECORDING_READY,
                occurred_at=ended_at,
                dedupe_key=f"{PROVIDER}:{general_id}:recording",
                recording_url=recording_ref(general_id),
                recording_duration=talk,
                **common,
            )
        )
    return events


def leg_of(details: Mapping[str, Any], general_id: str) -> str:
    """Which leg of the call this request reports: `callID`, the employee and the start.

    A transferred call may come as one request per leg, all with the call's `generalCallID`
    (sometimes with its `callID` too); a redelivery of one leg repeats all three, so it
    dedupes, while two legs differ at least in who answered or when.
    """
    call_id = _text(details.get("callID"))[:MAX_ID_LENGTH] or general_id
    employee = _text(details.get("internalNumber"))[:40] or "-"
    return f"{call_id}:{employee}:{_text(details.get('startTime'))}"


def recording_ref(general_call_id: str) -> str:
    """The recording URL an event carries until the recordings job asks Binotel's API."""
    return f"{RECORDING_SCHEME}{general_call_id}"


def parse_recording_ref(url: str) -> str:
    """The `generalCallID` of a `binotel-record:` URL; ValueError otherwise."""
    if not url.startswith(RECORDING_SCHEME):
        raise ValueError(f"not a Binotel recording reference: {url!r}")
    general_call_id = url[len(RECORDING_SCHEME) :].strip()
    if not general_call_id or len(general_call_id) > MAX_ID_LENGTH:
        raise ValueError(f"malformed Binotel recording reference: {url!r}")
    return general_call_id


def has_recording(details: Mapping[str, Any]) -> bool:
    """Whether Binotel recorded the call: `recordingStatus` uploaded, or a recording link."""
    status = _text(details.get("recordingStatus")).lower()
    if status:
        return status == "uploaded"
    return recording_link(details) is not None


def dialled_number(details: Mapping[str, Any]) -> str | None:
    """The company's number that was called: `did`, `didNumber` or `pbxNumberData[number]`."""
    pbx = details.get("pbxNumberData")
    candidates = [
        details.get("did"),
        details.get("didNumber"),
        pbx.get("number") if isinstance(pbx, dict) else None,
    ]
    return next((text for text in map(_text, candidates) if text), None)


def recording_link(details: Mapping[str, Any]) -> str | None:
    """An http(s) link to the recording when Binotel gives one and says it is uploaded."""
    status = _text(details.get("recordingStatus")).lower()
    if status and status != "uploaded":
        return None
    for name in RECORDING_LINK_FIELDS:
        link = _text(details.get(name))
        if link.startswith(("https://", "http://")):
            return link
    return None


def address_allowed(address: str, allowed: Sequence[str]) -> bool:
    """Whether `address` is in one of the `allowed` addresses or networks; [] allows nothing.

    Entries that are not addresses or networks are skipped (never widen the list).
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    for entry in allowed:
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            continue
        if ip.version == network.version and ip in network:
            return True
    return False


def sender_address(peer: str, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The address that sent the request, believing X-Forwarded-For only from `trusted_proxies`.

    Walking the header from the right, each hop added by a trusted proxy is skipped; the first
    address not in `trusted_proxies` is the sender. With no trusted proxies the header is
    ignored, so a client cannot claim to be Binotel by writing it.
    """
    if not forwarded_for or not address_allowed(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    sender = peer
    for hop in reversed(hops):
        sender = hop
        if not address_allowed(hop, trusted_proxies):
            break
    return sender


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _identifier(details: Mapping[str, Any], name: str) -> str:
    value = _text(details.get(name))
    if not value:
        raise InvalidPayload(f"callDetails[{name}] is missing")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidPayload(f"callDetails[{name}] is longer than {MAX_ID_LENGTH} characters")
    return value


def _start_time(details: Mapping[str, Any]) -> datetime:
    text = _text(details.get("startTime"))
    if not text.isdigit():
        raise InvalidPayload(f"callDetails[startTime] {text!r} is not a Unix time")
    try:
        return datetime.fromtimestamp(int(text), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidPayload(f"callDetails[startTime] {text!r} is out of range") from None


def _seconds(details: Mapping[str, Any], name: str) -> int:
    text = _text(details.get(name)) or "0"
    if not text.isdigit():
        raise InvalidPayload(f"callDetails[{name}] {text!r} is not a whole number of seconds")
    return int(text)
