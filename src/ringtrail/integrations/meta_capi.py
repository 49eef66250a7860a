"""Meta (Facebook) Conversions API: one server event per conversion, matched on the caller's
hashed phone and the visit's `_fbc` / `_fbp` cookies.

`POST {graph}/{api version}/{pixel id}/events` with a JSON body `{"data": [event], ...}`; the
access token travels in the body, never in the URL (URLs end up in logs). An event older than
7 days fails the whole request, so one is never sent. Meta deduplicates on `event_id` for 48
hours and cannot change an event it has taken, so a call that changes later sends nothing more.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ringtrail.domain.analytics_ids import build_fbc
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)
from ringtrail.integrations.event_ids import conversion_event_id
from ringtrail.integrations.http_answers import http_base_url, network_failure, read_body
from ringtrail.integrations.log_masking import HASHED, secret_values, without_secrets
from ringtrail.integrations.meta_user_data import user_data

DEFAULT_API_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
STANDARD_EVENTS = {"phone_call": "Contact", "lead": "Lead"}
"""The conversion rules' default names, as the Meta standard events that mean the same."""
MAX_EVENT_AGE = timedelta(days=7)
MAX_EVENT_NAME_LENGTH = 50
MATCH_KEYS = ("ph", "em", "fbc", "fbp")
"""What Meta can match a person on among what Ringtrail sends; `external_id` alone matches
only ids the pixel sent too."""
HASHED_KEYS = ("ph", "em", "external_id")

TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
"""Graph API codes that mean "try later": unknown and service errors, and the rate limits."""
TOKEN_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
UNKNOWN_OBJECT_SUBCODE = 33

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MetaConfig(BaseModel):
    """A Meta pixel (dataset) and the Conversions API token that may write to it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    pixel_id: str = Field(
        pattern=r"^\d{5,25}$",
        description="The pixel (dataset) id, digits only (Events Manager > Data sources)",
    )
    access_token: str = Field(
        min_length=1,
        max_length=1000,
        description="A Conversions API access token "
        "(Events Manager > the pixel > Settings > Conversions API > Generate access token)",
    )
    api_version: str = Field(
        default=DEFAULT_API_VERSION,
        pattern=r"^v\d{1,3}\.\d{1,2}$",
        description="The Graph API version, e.g. v26.0",
    )
    event_name: str | None = Field(
        default=None,
        description="The Meta event name (a standard one such as Contact or Lead, or your own); "
        "empty: the conversion's name, else Contact for calls and Lead for leads",
    )
    test_event_code: str | None = Field(
        default=None,
        max_length=100,
        description="While set, events show under Events Manager > Test events and are not used "
        "for ads; clear it once they look right",
    )

    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL, description="Meta's Graph API; change only for testing"
    )

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_base_url(value)

    @field_validator("event_name", "test_event_code")
    @classmethod
    def _short_text(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) > MAX_EVENT_NAME_LENGTH or _CONTROL.search(value):
            raise ValueError(f"must be at most {MAX_EVENT_NAME_LENGTH} printable characters")
        return value


class MetaDestination:
    """Meta Conversions API."""

    kind: ClassVar[str] = "meta"
    label: ClassVar[str] = "Meta Conversions API"
    config_model: ClassVar[type[BaseModel]] = MetaConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token"})
    on_change: ClassVar[OnChange] = "nothing"

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        meta = _meta_config(config)
        occurred_at = min(facts.occurred_at, now)
        if now - occurred_at > MAX_EVENT_AGE:
            days = (now - occurred_at).days
            return Skip(
                "too_old_for_meta",
                f"the {facts.subject_kind} is {days} days old; Meta takes events up to 7 days old",
            )
        visit = facts.visit
        fbc = visit.fbc if visit else None
        if visit and not fbc and visit.fbclid:
            fbc = build_fbc(visit.fbclid, int(visit.started_at.timestamp() * 1000))
        matched = user_data(
            phone=facts.phone_e164,
            email=facts.email,
            external_id=facts.extra.get("external_id"),
            fbc=fbc,
            fbp=visit.fbp if visit else None,
            default_country=facts.default_country,
        )
        if not any(key in matched for key in MATCH_KEYS):
            return Skip(
                "nothing_to_match_for_meta",
                f"nothing Meta can match this {facts.subject_kind} on: no caller phone number "
                "and no Facebook cookies (_fbp, _fbc) on the visit",
            )
        dedupe_key = conversion_event_id(self.kind, facts, conversion)
        event: dict[str, Any] = {
            "event_name": _event_name(meta, conversion, facts),
            "event_time": int(occurred_at.astimezone(UTC).timestamp()),
            "event_id": dedupe_key,
            "user_data": matched,
        }
        source, page, agent = _action_source(facts)
        event["action_source"] = source
        if page and agent:
            event["event_source_url"] = page
            matched["client_user_agent"] = agent
        if conversion.value is not None:
            event["custom_data"] = {
                "value": float(conversion.value),
                "currency": (conversion.currency or facts.currency).lower(),
            }
        payload: dict[str, Any] = {"data": [event]}
        if meta.test_event_code:
            payload["test_event_code"] = meta.test_event_code
        return Prepared(payload=payload, dedupe_key=dedupe_key)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        meta = _meta_config(config)
        url = f"{meta.api_base_url}/{meta.api_version}/{meta.pixel_id}/events"
        try:
            answer = client.post(url, json={**prepared.payload, "access_token": meta.access_token})
        except httpx.HTTPError as error:
            return network_failure("Meta", error)
        body = read_body(answer)
        response = {"status": answer.status_code, "body": body}
        if 200 <= answer.status_code < 300:
            return _accepted_or_not(answer.status_code, response, body, prepared)
        return _refusal(answer.status_code, response, body, meta)

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        """Hashed contact data shows as `sha256:••••`; fbc and fbp (browser ids) stay."""
        masked: dict[str, Any] = without_secrets(payload, secret_values(config, self.secret_fields))
        for event in masked.get("data", []):
            matched = event.get("user_data") if isinstance(event, dict) else None
            if isinstance(matched, dict):
                for key in HASHED_KEYS:
                    if key in matched:
                        matched[key] = [HASHED]
        return masked


def _meta_config(config: BaseModel) -> MetaConfig:
    if isinstance(config, MetaConfig):
        return config
    return MetaConfig.model_validate(config.model_dump())


def _event_name(meta: MetaConfig, conversion: Conversion, facts: ConversionFacts) -> str:
    """The configured name, else the conversion's (the rules' defaults as Meta's standard
    Contact and Lead), else Contact for a call and Lead for a lead."""
    if meta.event_name:
        return meta.event_name
    name = conversion.name.strip()
    if name:
        return STANDARD_EVENTS.get(name, name[:MAX_EVENT_NAME_LENGTH])
    return "Lead" if facts.subject_kind == "lead" else "Contact"


def _action_source(facts: ConversionFacts) -> tuple[str, str | None, str | None]:
    """`phone_call` for a call; a form or callback request is a website event, which Meta
    takes only with the page and the browser (source, page, user agent), else `other`."""
    if facts.subject_kind == "call" or facts.lead_kind in (None, "call"):
        return "phone_call", None, None
    visit = facts.visit
    page = facts.landing_page or (visit.landing_url if visit else "")
    agent = visit.user_agent if visit else ""
    if page and agent:
        return "website", page, agent
    return "other", None, None


def _accepted_or_not(
    status: int, response: dict[str, Any], body: Any, prepared: Prepared
) -> SendResult:
    sent = len(prepared.payload.get("data", []))
    received = body.get("events_received") if isinstance(body, dict) else None
    if isinstance(received, int) and received >= sent:
        return SendResult("accepted", status, response)
    return SendResult(
        "rejected",
        status,
        response,
        f"Meta answered but took {received if isinstance(received, int) else 'no'} of {sent} "
        "events",
    )


def _refusal(status: int, response: dict[str, Any], body: Any, meta: MetaConfig) -> SendResult:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        if status == 429 or status >= 500:
            return SendResult(
                "retry",
                status,
                response,
                f"Meta had a server error (HTTP {status}); trying again later",
            )
        return SendResult("rejected", status, response, f"Meta refused the request (HTTP {status})")
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    trace = f" (Meta trace id {error['fbtrace_id']})" if error.get("fbtrace_id") else ""
    if error.get("is_transient") is True or code in TRANSIENT_CODES or status >= 500:
        return SendResult(
            "retry",
            status,
            response,
            f"Meta is busy or limiting requests (code {code}); trying again later{trace}",
        )
    if code in TOKEN_CODES:
        words = (
            "Meta refused the access token: it is wrong, expired or revoked; generate a new one "
            "in Events Manager > the pixel > Settings > Conversions API"
        )
    elif code in PERMISSION_CODES:
        words = f"the access token may not send events to pixel {meta.pixel_id}"
    elif code == 100 and subcode == UNKNOWN_OBJECT_SUBCODE:
        words = f"Meta has no pixel {meta.pixel_id} that this access token can see"
    else:
        title = str(error.get("error_user_title") or "").strip()
        detail = str(error.get("error_user_msg") or error.get("message") or "").strip()
        words = "Meta refused the event: " + (
            ": ".join(part for part in (title, detail) if part) or f"code {code}"
        )
    return SendResult("rejected", status, response, words + trace)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


DESTINATION = MetaDestination()
