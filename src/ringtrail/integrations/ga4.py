"""Google Analytics 4 through the Measurement Protocol: one event per conversion, tied to the
visitor's GA client id and session, timestamped at the call.

`POST {base}/mp/collect?measurement_id=G-…&api_secret=…` with a JSON body. The live endpoint
answers 2xx to anything and drops what it dislikes, so every payload passes `ga4_limits`
before it leaves; `validate` asks the debug endpoint (`/debug/mp/collect`), which checks the
structure but not the measurement id and secret. GA4 cannot change an event it has taken, so
a call that changes later sends nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ringtrail.domain.analytics_ids import parse_ga_client_id
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
    VisitFacts,
)
from ringtrail.integrations.event_ids import conversion_event_id
from ringtrail.integrations.ga4_limits import (
    MAX_BACKDATE_MICROS,
    MAX_PARAM_VALUE_LENGTH,
    Problem,
    check_payload,
    event_name_problem,
)
from ringtrail.integrations.http_answers import (
    http_base_url,
    network_failure,
    read_body,
    status_result,
)
from ringtrail.integrations.log_masking import secret_values, without_secrets

DEFAULT_API_BASE_URL = "https://www.google-analytics.com"
EU_API_BASE_URL = "https://region1.google-analytics.com"
DEFAULT_EVENT_NAME = "phone_call"
ENGAGEMENT_TIME_MSEC = 1
"""GA4 counts a session as engaged only with a non-zero engagement time; the call itself
adds none, so the smallest value ties the event to the session without inflating it."""
CONSENT_SIGNALS = ("ad_user_data", "ad_personalization")

_SESSION_ID = re.compile(r"\d{1,20}")
_VALIDATION_WORDS = {
    "NAME_INVALID": "a name GA4 does not allow",
    "NAME_RESERVED": "a name GA4 keeps for itself",
    "NAME_DUPLICATED": "a name given twice",
    "VALUE_INVALID": "a value GA4 does not accept",
    "VALUE_REQUIRED": "a required value is missing",
    "VALUE_OUT_OF_BOUNDS": "a value outside GA4's limits",
    "EXCEEDED_MAX_ENTITIES": "more events, parameters or properties than GA4 takes",
}


class Ga4Config(BaseModel):
    """A GA4 web data stream and how its conversions are named."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    measurement_id: str = Field(
        description="The stream's measurement id, G-XXXXXXX (Admin > Data streams > the stream)"
    )
    api_secret: str = Field(
        min_length=1,
        max_length=200,
        description="A Measurement Protocol API secret of the same stream "
        "(Admin > Data streams > the stream > Measurement Protocol API secrets)",
    )
    event_name: str | None = Field(
        default=None,
        description="The GA4 event name; empty: the conversion's name, else phone_call",
    )

    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL,
        description=f"Where events go; {EU_API_BASE_URL} keeps collection in the EU",
    )

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_base_url(value)

    @field_validator("measurement_id")
    @classmethod
    def _measurement_id(cls, value: str) -> str:
        value = value.upper()
        if not re.fullmatch(r"G-[A-Z0-9]{4,20}", value):
            raise ValueError(
                "must be a GA4 measurement id such as G-AB12CD34EF (not the stream id)"
            )
        return value

    @field_validator("event_name")
    @classmethod
    def _event_name(cls, value: str | None) -> str | None:
        if not value:
            return None
        problem = event_name_problem(value, "event_name")
        if problem is not None:
            raise ValueError(problem.words)
        return value


class Ga4Destination:
    """GA4 Measurement Protocol."""

    kind: ClassVar[str] = "ga4"
    label: ClassVar[str] = "Google Analytics 4"
    config_model: ClassVar[type[BaseModel]] = Ga4Config
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_secret"})
    on_change: ClassVar[OnChange] = "nothing"

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        ga4 = _ga4_config(config)
        visit = facts.visit
        if visit is None:
            return Skip(
                "no_visit",
                f"no GA client id: the {facts.subject_kind} was not matched to a website visit",
            )
        if not visit.ga_client_id:
            return Skip("no_ga_client_id", "no GA client id: the visit had no _ga cookie")
        client_id = parse_ga_client_id(visit.ga_client_id)
        if client_id is None:
            return Skip(
                "bad_ga_client_id",
                "the visit's _ga cookie does not hold a GA client id (<number>.<number>)",
            )
        occurred_at = min(facts.occurred_at, now)
        now_micros = _micros(now)
        timestamp = _micros(occurred_at)
        if timestamp < now_micros - MAX_BACKDATE_MICROS:
            hours = int((now - occurred_at) / timedelta(hours=1))
            return Skip(
                "too_old_for_ga4",
                f"the {facts.subject_kind} is {hours} hours old; GA4 takes events back-dated by "
                "at most 72 hours",
            )
        name = ga4.event_name or conversion.name or DEFAULT_EVENT_NAME
        dedupe_key = conversion_event_id(self.kind, facts, conversion)
        payload: dict[str, Any] = {
            "client_id": client_id,
            "timestamp_micros": timestamp,
            "events": [
                {"name": name, "params": _params(ga4, facts, conversion, visit, dedupe_key)}
            ],
        }
        consent = _consent(facts)
        if consent:
            payload["consent"] = consent
        problems = check_payload(payload, now_micros)
        if problems:
            return Skip("invalid_for_ga4", _problem_words(problems, ga4.event_name is None))
        return Prepared(payload=payload, dedupe_key=dedupe_key)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        return self._post(client, _ga4_config(config), prepared, "/mp/collect")

    def validate(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        """Ask GA4's debug endpoint about `prepared` (nothing is recorded there): accepted
        when it finds nothing wrong, rejected with its messages in words otherwise. It does not
        check that the measurement id and API secret belong together."""
        result = self._post(client, _ga4_config(config), prepared, "/debug/mp/collect")
        if result.outcome != "accepted":
            return result
        body = result.response.get("body")
        found = body.get("validationMessages") if isinstance(body, dict) else None
        if not isinstance(found, list):
            return SendResult(
                "retry",
                result.status_code,
                result.response,
                "GA4's validation server gave an answer Ringtrail cannot read",
            )
        response = {"status": result.status_code, "validationMessages": found}
        if not found:
            return SendResult("accepted", result.status_code, response)
        return SendResult(
            "rejected",
            result.status_code,
            response,
            "GA4 would drop this event: " + "; ".join(_validation_words(item) for item in found),
        )

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        """The payload holds a pseudonymous client id and no contact data; only a secret
        that found its way in is blanked."""
        masked: dict[str, Any] = without_secrets(payload, secret_values(config, self.secret_fields))
        return masked

    def _post(
        self, client: httpx.Client, config: Ga4Config, prepared: Prepared, path: str
    ) -> SendResult:
        url = f"{config.api_base_url}{path}"
        query = {"measurement_id": config.measurement_id, "api_secret": config.api_secret}
        try:
            answer = client.post(url, params=query, json=prepared.payload)
        except httpx.HTTPError as error:
            return network_failure("GA4", error)
        body = read_body(answer)
        if answer.status_code in (401, 403):
            return SendResult(
                "rejected",
                answer.status_code,
                {"status": answer.status_code, "body": body},
                f"GA4 refused the measurement id or API secret (HTTP {answer.status_code}): "
                "check both in the destination's settings",
            )
        return status_result("GA4", answer, body)


def _ga4_config(config: BaseModel) -> Ga4Config:
    if isinstance(config, Ga4Config):
        return config
    return Ga4Config.model_validate(config.model_dump())


def _params(
    config: Ga4Config,
    facts: ConversionFacts,
    conversion: Conversion,
    visit: VisitFacts,
    dedupe_key: str,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    session_id = _session_id(config, facts, visit)
    if session_id:
        params["session_id"] = session_id
    params["engagement_time_msec"] = ENGAGEMENT_TIME_MSEC
    params["transaction_id"] = dedupe_key
    params[f"{facts.subject_kind}_id"] = str(facts.subject_id)
    if facts.subject_kind == "lead" and facts.lead_kind:
        params["lead_kind"] = facts.lead_kind[:MAX_PARAM_VALUE_LENGTH]
    if facts.status:
        params["call_status"] = facts.status[:MAX_PARAM_VALUE_LENGTH]
    duration = facts.talk_seconds if facts.talk_seconds is not None else facts.duration_seconds
    if duration is not None:
        params["call_duration_sec"] = duration
    tracking_number = facts.extra.get("tracking_number")
    if isinstance(tracking_number, str) and tracking_number:
        params["tracking_number"] = tracking_number[:MAX_PARAM_VALUE_LENGTH]
    if conversion.value is not None:
        params["value"] = float(conversion.value)
        params["currency"] = (conversion.currency or facts.currency).upper()
    return params


def _session_id(config: Ga4Config, facts: ConversionFacts, visit: VisitFacts) -> str | None:
    """This stream's session id: a site with several GA4 streams has a `_ga_<suffix>` cookie
    per stream, and `facts.extra["ga_session_ids"]` (suffix → id), when given, says which is
    ours; without that map, the visit's one session id."""
    by_stream = facts.extra.get("ga_session_ids")
    if isinstance(by_stream, Mapping) and by_stream:
        found = by_stream.get(config.measurement_id.removeprefix("G-"))
    else:
        found = visit.ga_session_id
    return found if isinstance(found, str) and _SESSION_ID.fullmatch(found) else None


def _consent(facts: ConversionFacts) -> dict[str, str]:
    return {
        signal: "GRANTED" if facts.consent[signal] else "DENIED"
        for signal in CONSENT_SIGNALS
        if signal in facts.consent
    }


def _problem_words(problems: list[Problem], name_from_conversion: bool) -> str:
    words = "GA4 would drop this event: " + "; ".join(problem.words for problem in problems)
    if name_from_conversion and any(p.field_path.endswith(".name") for p in problems):
        words += " (set a GA4 event name such as phone_call in the destination's settings)"
    return words


def _validation_words(item: object) -> str:
    if not isinstance(item, dict):
        return str(item)[:200]
    code = str(item.get("validationCode", ""))
    description = str(item.get("description", "")).strip()
    where = str(item.get("fieldPath", "")).strip()
    summary = _VALIDATION_WORDS.get(code, code.lower().replace("_", " ") or "a problem")
    parts = [summary]
    if where:
        parts.append(f"at {where}")
    text = " ".join(parts)
    return f"{text}: {description}" if description else text


def _micros(moment: datetime) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


DESTINATION = Ga4Destination()
