"""The generic signed webhook: Ringtrail's own JSON call events, for any PBX or provider.

Format and signing are documented in docs/webhooks.md. The signature is HMAC-SHA256 with the
project's webhook secret over `<timestamp>.<raw body>`, sent as `X-Ringtrail-Signature:
v1=<hex>` with the Unix time in `X-Ringtrail-Timestamp`. A timestamp more than
`MAX_SKEW_SECONDS` away from now is refused, so a captured request cannot be replayed later.
Every check fails closed: no secret, no header or a bad header means refusal. During a
rotation's grace period two secrets are accepted (services/webhook_secrets.py): a request
signed with either passes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.domain.input_checks import NotJson, TooDeep, UnusableInput, load_json
from ringtrail.telephony.errors import BadSignature, InvalidPayload

PROVIDER = "webhook"
MAX_SKEW_SECONDS = 300
MAX_EVENTS = 500
SIGNATURE_VERSION = "v1"
EVENT_KINDS = {
    "call.started": CallEventKind.STARTED,
    "call.answered": CallEventKind.ANSWERED,
    "call.ended": CallEventKind.ENDED,
    "call.recording_ready": CallEventKind.RECORDING_READY,
}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Seconds = Annotated[int, Field(ge=0, le=7 * 24 * 3600)]


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Ringtrail-Signature` value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    secret: str | Sequence[str] | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
) -> None:
    """Raise BadSignature unless the request is signed with `secret` (or one of several
    accepted secrets) within the time window."""
    candidates = [secret] if isinstance(secret, str) else list(secret or ())
    accepted = [one for one in candidates if one]
    if not accepted:
        raise BadSignature("the project has no webhook secret")
    if not timestamp or not signature:
        raise BadSignature("X-Ringtrail-Timestamp and X-Ringtrail-Signature are required")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise BadSignature("X-Ringtrail-Timestamp must be Unix seconds") from None
    if abs(now.timestamp() - sent_at) > MAX_SKEW_SECONDS:
        raise BadSignature(
            f"X-Ringtrail-Timestamp is more than {MAX_SKEW_SECONDS} s from the server's clock"
        )
    expected = [sign(one, sent_at, body) for one in accepted]
    offered = [part.strip() for part in signature.split(",")]
    if not any(hmac.compare_digest(e, candidate) for e in expected for candidate in offered):
        raise BadSignature("signature does not match")


class WebhookEvent(BaseModel):
    """One event of the generic webhook (docs/webhooks.md)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event: Literal["call.started", "call.answered", "call.ended", "call.recording_ready"]
    call_id: Text
    occurred_at: AwareDatetime
    event_id: Text | None = None
    to: Annotated[str, StringConstraints(max_length=64)] | None = None
    from_: Annotated[str, StringConstraints(max_length=64)] | None = Field(None, alias="from")
    forwarded_to: Annotated[str, StringConstraints(max_length=64)] | None = None
    outcome: Literal["answered", "no_answer", "busy", "failed", "canceled"] | None = None
    total_seconds: Seconds | None = None
    talk_seconds: Seconds | None = None
    recording_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    recording_duration: Seconds | None = None
    meta: dict[str, Any] | None = None


class WebhookBatch(BaseModel):
    """Several events in one request, applied in order in one transaction."""

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=MAX_EVENTS)]


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def parse(body: bytes, project_id: int) -> list[CallEvent]:
    """The events of a request body (one event object, or {"events": [...]}).

    Text that cannot be stored (NUL, lone surrogates) or JSON nested deeper than the limit is
    refused here, with its path in the body (`events.0.meta.crm`).
    """
    try:
        data = load_json(body)
    except TooDeep as exc:
        raise InvalidPayload(f"body is {exc.problem}") from None
    except NotJson:
        raise InvalidPayload("body is not valid JSON") from None
    except UnusableInput as exc:
        raise InvalidPayload(str(exc)) from None
    try:
        if isinstance(data, dict) and "events" in data:
            items = WebhookBatch.model_validate(data).events
        else:
            items = [WebhookEvent.model_validate(data)]
    except ValidationError as exc:
        raise InvalidPayload(_reason(exc)) from None
    return [_to_event(item, project_id) for item in items]


def _to_event(item: WebhookEvent, project_id: int) -> CallEvent:
    kind = EVENT_KINDS[item.event]
    if kind is CallEventKind.RECORDING_READY and not item.recording_url:
        raise InvalidPayload("recording_url: required for call.recording_ready")
    event_id = item.event_id or f"{item.call_id}:{item.event}:{item.occurred_at.isoformat()}"
    return CallEvent(
        provider=PROVIDER,
        provider_call_id=f"{project_id}:{item.call_id}",
        kind=kind,
        occurred_at=item.occurred_at,
        dedupe_key=f"{PROVIDER}:{project_id}:{event_id}",
        dialled=item.to,
        caller=item.from_,
        forwarded_to=item.forwarded_to,
        outcome=CallOutcome(item.outcome) if item.outcome else None,
        total_seconds=item.total_seconds,
        talk_seconds=item.talk_seconds,
        recording_url=item.recording_url,
        recording_duration=item.recording_duration,
        payload=item.model_dump(mode="json", by_alias=True, exclude_none=True),
    )
