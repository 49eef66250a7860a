"""Signed CRM webhooks: each call and lead event POSTed as JSON to the user's URL.

The body is built by domain/crm_events.py. It is signed exactly as Ringtrail's own inbound
webhook is verified (telephony/signed.py): `X-Ringtrail-Signature: v1=<hex HMAC-SHA256 of
"<timestamp>.<body>">` with the Unix time in `X-Ringtrail-Timestamp`, so a receiver can use
the same code in both directions. The signature is made when the request leaves (a retry an
hour later carries a fresh timestamp, inside the receiver's five-minute window). During a
secret rotation both the new and the previous secret sign it: two comma-separated
signatures, either of which passes. 2xx is accepted; 410 and other 4xx refusals are final;
408, 429, 5xx, timeouts and refused connections are tried again.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ringtrail.domain import crm_events, one_lead_per_person
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)
from ringtrail.telephony.signed import sign

USER_AGENT = "Ringtrail-Webhooks/1"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_ANSWER_CHARS = 500
RETRYABLE_4XX = frozenset({408, 425, 429})


def check_url(url: str) -> str:
    """An https URL (http only for this machine, for testing receivers locally)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("enter a full URL starting with https://")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ValueError("the URL must start with https://: events carry callers' phone numbers")
    if parts.username or parts.password:
        raise ValueError("put no user name or password in the URL; the signature authenticates")
    return urlunsplit(parts)


class CrmWebhookConfig(BaseModel):
    """Where to POST events and the secrets that sign them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(max_length=2000, description="The receiver's URL (https).")
    secret: str = Field(
        min_length=16, max_length=200, description="The signing secret (HMAC-SHA256)."
    )
    previous_secret: str | None = Field(
        default=None, max_length=200, description="The secret before the last rotation."
    )
    previous_secret_until: AwareDatetime | None = Field(
        default=None, description="Until when the previous secret signs too."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=30)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)


def new_secret() -> str:
    """A fresh random signing secret (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def rotate(config: CrmWebhookConfig, now: datetime, grace_hours: int = 24) -> CrmWebhookConfig:
    """The config with a new secret; the current one keeps signing too for `grace_hours`
    (0: it stops at once), so the receiver can switch without refusing anything."""
    if not 0 <= grace_hours <= 7 * 24:
        raise ValueError("grace_hours must be between 0 and 168")
    keep = grace_hours > 0
    return config.model_copy(
        update={
            "secret": new_secret(),
            "previous_secret": config.secret if keep else None,
            "previous_secret_until": now + timedelta(hours=grace_hours) if keep else None,
        }
    )


def signing_secrets(config: CrmWebhookConfig, now: datetime) -> list[str]:
    """The secrets that sign at `now`: the current one, then the previous one in its grace."""
    found = [config.secret]
    until = config.previous_secret_until
    if config.previous_secret and until is not None and now < until:
        found.append(config.previous_secret)
    return found


def signed_headers(
    config: CrmWebhookConfig, body: bytes, event: str, delivery: str, now: datetime
) -> dict[str, str]:
    """The headers of one request: timestamp, signature(s), event and delivery id."""
    stamp = int(now.timestamp())
    signatures = [sign(one, stamp, body) for one in signing_secrets(config, now)]
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Ringtrail-Timestamp": str(stamp),
        "X-Ringtrail-Signature": ", ".join(signatures),
        "X-Ringtrail-Event": event,
        "X-Ringtrail-Delivery": delivery,
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _answer(response: httpx.Response) -> dict[str, Any]:
    text = response.text[:MAX_ANSWER_CHARS]
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return {"status": response.status_code, "body": parsed}


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    return float(raw) if raw.isdigit() else None


def classify(response: httpx.Response) -> SendResult:
    """accepted (2xx), retry (408, 425, 429, 5xx) or rejected in words (the rest)."""
    code = response.status_code
    answer = _answer(response)
    if 200 <= code < 300:
        return SendResult("accepted", code, answer)
    if code in RETRYABLE_4XX or code >= 500:
        reason = f"the receiver answered HTTP {code}; trying again later"
        return SendResult("retry", code, answer, reason, _retry_after(response))
    if code == 410:
        reason = "the receiver says this webhook is gone (HTTP 410): fix or remove the URL"
    elif 300 <= code < 400:
        where = response.headers.get("location", "elsewhere")
        reason = f"the URL redirects (HTTP {code} to {where}): enter the final URL"
    elif code in (401, 403):
        reason = (
            f"the receiver refused the signature (HTTP {code}): "
            "check it has the current signing secret"
        )
    else:
        snippet = answer["body"] if isinstance(answer["body"], str) else json.dumps(answer["body"])
        reason = f"the receiver refused the event (HTTP {code}): {snippet[:200]}".rstrip(": ")
    return SendResult("rejected", code, answer, reason)


def mask_phone(phone: Any) -> Any:
    """+380501234567 -> +38050*****67: enough to tell callers apart in the log."""
    if not isinstance(phone, str) or len(phone) < 7:
        return "***" if phone else phone
    return phone[:6] + "*" * (len(phone) - 8) + phone[-2:]


def mask_email(email: Any) -> Any:
    if not isinstance(email, str) or "@" not in email:
        return "***" if email else email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_link(url: Any) -> Any:
    """A signed link without its query and token: the log must not open the recording."""
    if not isinstance(url, str) or not url:
        return url
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] + "/***" if "/recordings/" in parts.path else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, "***" if parts.query else "", ""))


sample_facts = crm_events.sample_facts
sample_conversion = crm_events.sample_conversion


class CrmWebhookDestination:
    """Signed JSON events to a CRM or any HTTPS receiver."""

    kind: ClassVar[str] = "crm_webhook"
    label: ClassVar[str] = "CRM webhook (signed JSON)"
    config_model: ClassVar[type[BaseModel]] = CrmWebhookConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret", "previous_secret"})
    on_change: ClassVar[OnChange] = "update"
    events: ClassVar[frozenset[str]] = crm_events.DESTINATION_EVENTS

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        # The signature's timestamp is the moment the request leaves, not when it was queued.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        try:
            kind = crm_events.event_kind(conversion.event)
        except crm_events.UnknownEvent:
            return Skip("not_a_crm_event", f"a CRM webhook sends no {conversion.event!r} event")
        if kind == "lead.created":
            why = one_lead_per_person.refusal(one_lead_per_person.open_contact(facts.extra))
            if why is not None:
                return Skip(one_lead_per_person.SKIP_CODE, why)
        sent_for = crm_events.delivery_id(
            facts.project_id, facts.subject_kind, facts.subject_id, conversion.event
        )
        body = crm_events.event_body(facts, conversion.event, conversion.sequence, sent_for)
        if kind == "call.updated" and not body["changed"]:
            return Skip("nothing_changed", "nothing the CRM is sent changed since the last event")
        return Prepared(body, sent_for)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        assert isinstance(config, CrmWebhookConfig)
        body = encode(prepared.payload)
        event = str(prepared.payload.get("event", ""))
        headers = signed_headers(config, body, event, prepared.dedupe_key, self.clock())
        try:
            response = client.post(
                config.url, content=body, headers=headers, timeout=config.timeout_seconds
            )
        except httpx.TimeoutException:
            reason = f"the receiver did not answer within {config.timeout_seconds:g} s"
            return SendResult("retry", None, {}, reason)
        except httpx.TransportError as exc:
            return SendResult("retry", None, {}, f"could not reach the receiver: {exc}")
        result = classify(response)
        # Kept with the answer, so the next call.updated can say what changed since.
        return replace(
            result, response={**result.response, "sent": crm_events.snapshot(prepared.payload)}
        )

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        shown = json.loads(json.dumps(payload))
        caller = shown.get("caller")
        if isinstance(caller, dict):
            caller["phone"] = mask_phone(caller.get("phone"))
            caller["email"] = mask_email(caller.get("email"))
            caller["name"] = "***" if caller.get("name") else caller.get("name")
        shown["recording_url"] = mask_link(shown.get("recording_url"))
        if shown.get("transcript"):
            shown["transcript"] = f"[{len(shown['transcript'])} characters]"
        return dict(shown)


DESTINATION = CrmWebhookDestination()
