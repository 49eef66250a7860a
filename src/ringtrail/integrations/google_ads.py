"""Google Ads offline click conversions through the Data Manager API (`events:ingest`).

Google retires click-conversion upload through the Google Ads API (`UploadClickConversions`)
in 2026; the Data Manager API is its replacement: one JSON request names the destination
(the Google Ads account and the conversion action) and the events (click id, time, value,
currency, a `transactionId` Google dedupes on). Sign-in is OAuth 2.0: an access token
obtained from a stored refresh token (scope `https://www.googleapis.com/auth/datamanager`;
no developer token). Errors are `google.rpc.Status` JSON; the request fails as a whole.

Before sending, the click window is enforced (`domain.click_windows`): a call without a
gclid / gbraid / wbraid, a click older than 90 days or a conversion before the click is
skipped with the reason in words. The same rows go into Google's import template
(`google_ads_files`) for accounts without API access.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, Field, field_validator, model_validator

from ringtrail.domain.click_windows import (
    GOOGLE_CLICK_WINDOW,
    NO_VISIT,
    ClickId,
    check_click_window,
    google_click_id,
    no_google_click,
)
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)

DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address)
DEFAULT_API_BASE_URL = "https://datamanager.googleapis.com"
INGEST_PATH = "/v1/events:ingest"
SCOPE = "https://www.googleapis.com/auth/datamanager"
TOKEN_MARGIN_SECONDS = 60.0
"""An access token is renewed this long before Google says it expires."""
TOO_RECENT_RETRY_SECONDS = 6 * 3600.0
"""Google asks to retry a conversion action created moments ago after some hours."""


Upload = Literal["api", "file"]
API_FIELDS = (
    "operating_account_id",
    "conversion_action_id",
    "client_id",
    "client_secret",
    "refresh_token",
)
"""What sending through the API needs; a file-only destination needs none of it."""


class GoogleAdsConfig(BaseModel):
    """One Google Ads conversion action to report calls to, through the API or by file."""

    upload: Upload = Field(
        default="api",
        description="api: Ringtrail sends each conversion; file: you upload the import file.",
    )
    operating_account_id: str = Field(
        default="", description="Google Ads account (customer) id that receives the conversions."
    )
    login_account_id: str | None = Field(
        default=None, description="Manager account id, when access goes through a manager."
    )
    conversion_action_id: str = Field(
        default="", description="Id of the conversion action (type 'Import from clicks')."
    )
    client_id: str = Field(default="", description="OAuth client id.")
    client_secret: str = Field(default="", description="OAuth client secret.")
    refresh_token: str = Field(
        default="", description="OAuth refresh token with the datamanager scope."
    )
    click_window_days: int = Field(default=90, ge=1, le=90)
    validate_only: bool = Field(
        default=False, description="Google checks every request but stores nothing."
    )
    token_url: str = DEFAULT_TOKEN_URL
    api_base_url: str = DEFAULT_API_BASE_URL

    @field_validator("login_account_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("operating_account_id", "login_account_id", "conversion_action_id")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if not value:
            return value
        digits = value.replace("-", "").replace(" ", "").strip()
        if not digits.isdigit():
            raise ValueError("must be digits (dashes allowed), like 123-456-7890")
        return digits

    @model_validator(mode="after")
    def _api_needs_its_fields(self) -> GoogleAdsConfig:
        if self.upload == "api":
            missing = [name for name in API_FIELDS if not getattr(self, name).strip()]
            if missing:
                raise ValueError(
                    f"{', '.join(missing)}: needed to send through the API "
                    "(or choose upload by file)"
                )
        return self

    @property
    def click_window(self) -> timedelta:
        return timedelta(days=self.click_window_days)


FILE_UPLOAD = Skip(
    "file_upload", "this destination is uploaded by file: download the import file from its page"
)


def rfc3339(moment: datetime) -> str:
    """An instant as RFC 3339 in UTC with a `Z`, whole seconds (protobuf JSON Timestamp)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def transaction_id(facts: ConversionFacts) -> str:
    """Google's dedupe key for a conversion: one per call (or lead), stable across retries."""
    return f"ringtrail-{facts.subject_kind}-{facts.subject_id}"


def click_of(facts: ConversionFacts, window: timedelta, now: datetime) -> ClickId | Skip:
    """The click id a conversion is reported on, or why it cannot be."""
    visit = facts.visit
    if visit is None:
        return Skip(NO_VISIT.code, NO_VISIT.words)
    click = google_click_id(visit.gclid, visit.gbraid, visit.wbraid)
    if click is None:
        missing = no_google_click(visit.source, visit.medium)
        return Skip(missing.code, missing.words)
    refusal = check_click_window(visit.started_at, facts.occurred_at, now, window)
    if refusal is not None:
        return Skip(refusal.code, refusal.words)
    return click


def consent_refusal(facts: ConversionFacts) -> Skip | None:
    """Google may not use data of a visitor who declined ad user data: not sent."""
    if facts.consent.get("ad_user_data") is False:
        return Skip("consent_denied", "consent not given: the visitor declined ad user data")
    return None


def _consent_status(value: bool) -> str:
    return "CONSENT_GRANTED" if value else "CONSENT_DENIED"


def ingest_body(
    config: GoogleAdsConfig, facts: ConversionFacts, conversion: Conversion, click: ClickId
) -> dict[str, Any]:
    """The `IngestEventsRequest` JSON (proto3 JSON names) for one conversion."""
    destination: dict[str, Any] = {
        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": config.operating_account_id},
        "productDestinationId": config.conversion_action_id,
    }
    if config.login_account_id:
        destination["loginAccount"] = {
            "accountType": "GOOGLE_ADS",
            "accountId": config.login_account_id,
        }
    event: dict[str, Any] = {
        "transactionId": transaction_id(facts),
        "eventTimestamp": rfc3339(facts.occurred_at),
        "adIdentifiers": {click.kind: click.value},
        "currency": conversion.currency,
    }
    if conversion.value is not None:
        event["conversionValue"] = float(conversion.value)
    consent = {
        name: _consent_status(facts.consent[key])
        for key, name in (
            ("ad_user_data", "adUserData"),
            ("ad_personalization", "adPersonalization"),
        )
        if key in facts.consent
    }
    if consent:
        event["consent"] = consent
    body: dict[str, Any] = {"destinations": [destination], "events": [event]}
    if config.validate_only:
        body["validateOnly"] = True
    return body


def _as_config(config: BaseModel) -> GoogleAdsConfig:
    if isinstance(config, GoogleAdsConfig):
        return config
    return GoogleAdsConfig.model_validate(config.model_dump())


class _TokenCache:
    """Access tokens by client and refresh token, reused until shortly before they expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    @staticmethod
    def key(config: GoogleAdsConfig) -> str:
        raw = f"{config.token_url}\0{config.client_id}\0{config.refresh_token}"
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, config: GoogleAdsConfig) -> str | None:
        with self._lock:
            found = self._tokens.get(self.key(config))
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def put(self, config: GoogleAdsConfig, token: str, expires_in: float) -> None:
        until = time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 0.0)
        with self._lock:
            self._tokens[self.key(config)] = (token, until)

    def drop(self, config: GoogleAdsConfig) -> None:
        with self._lock:
            self._tokens.pop(self.key(config), None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = _TokenCache()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"body": response.text[:2000]}
    return data if isinstance(data, dict) else {"body": data}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else None


def access_token(client: httpx.Client, config: GoogleAdsConfig) -> str | SendResult:
    """A fresh or cached access token, or the failed exchange as a SendResult."""
    cached = TOKENS.get(config)
    if cached is not None:
        return cached
    try:
        response = client.post(
            config.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "refresh_token": config.refresh_token,
            },
        )
    except httpx.HTTPError as error:
        return SendResult("retry", None, {}, f"could not reach Google sign-in: {error}")
    data = _json(response)
    if response.status_code == 200 and isinstance(data.get("access_token"), str):
        TOKENS.put(config, data["access_token"], float(data.get("expires_in") or 3600))
        return str(data["access_token"])
    if response.status_code >= 500 or response.status_code == 429:
        return SendResult(
            "retry",
            response.status_code,
            data,
            "Google sign-in is unavailable for now",
            _retry_after(response),
        )
    error_code = str(data.get("error", ""))
    words = {
        "invalid_grant": "Google refused the sign-in: the refresh token was revoked or has "
        "expired; connect the Google account again",
        "invalid_client": "Google refused the sign-in: the OAuth client id or secret is wrong",
        "unauthorized_client": "Google refused the sign-in: this OAuth client may not use the "
        "refresh token",
    }.get(error_code, f"Google refused the sign-in ({error_code or response.status_code})")
    return SendResult("rejected", response.status_code, data, words)


REASON_WORDS: dict[str, str] = {
    "INVALID_CONVERSION_ACTION_ID": "Google Ads has no such conversion action; check its id",
    "INVALID_CONVERSION_ACTION_TYPE": "the conversion action is not an 'Import from clicks' action",
    "EVENT_TIME_INVALID": "Google refused the conversion time (before the click, in the "
    "future, or the click is too old)",
    "NO_IDENTIFIERS_PROVIDED": "no gclid, gbraid or wbraid was sent",
    "INVALID_AD_IDENTIFIER_FOR_ACCOUNT": "the click id does not belong to this Google Ads account",
    "INVALID_CURRENCY_CODE": "Google does not know the currency code",
    "TERMS_AND_CONDITIONS_NOT_SIGNED": "the customer data terms are not accepted in the Google "
    "Ads account",
    "ADVERTISER_TOS_NOT_ACCEPTED": "the customer data terms are not accepted in the Google "
    "Ads account",
    "OPERATING_ACCOUNT_LOGIN_ACCOUNT_MISMATCH": "the manager account has no access to the "
    "Google Ads account",
    "INVALID_DESTINATION": "the Google Ads account or conversion action is wrong",
    "PERMISSION_DENIED": "the signed-in Google account has no access to the Google Ads account",
    "NOT_FOUND": "Google Ads does not know the account or conversion action",
    "TOO_MANY_EVENTS": "too many conversions in one request",
    "ALREADY_EXISTS": "Google already has this conversion",
}


def _error_reasons(data: dict[str, Any]) -> list[str]:
    """The ErrorInfo reasons and BadRequest field-violation reasons of a google.rpc.Status."""
    error = data.get("error")
    if not isinstance(error, dict):
        return []
    reasons: list[str] = []
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if isinstance(detail.get("reason"), str):
            reasons.append(detail["reason"])
        for violation in detail.get("fieldViolations") or []:
            if isinstance(violation, dict) and isinstance(violation.get("reason"), str):
                reasons.append(violation["reason"])
    return reasons


def classify(response: httpx.Response) -> SendResult:
    """Google's answer to `events:ingest` as accepted / rejected / retry, in words."""
    data = _json(response)
    status = response.status_code
    if status == 200:
        return SendResult("accepted", status, data)
    reasons = _error_reasons(data)
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    message = str(error.get("message") or "").strip() if isinstance(error, dict) else ""
    if "CONVERSION_ACTION_TOO_RECENTLY_CREATED" in reasons:
        words = "the conversion action was created moments ago; Google asks to wait"
        return SendResult("retry", status, data, words, TOO_RECENT_RETRY_SECONDS)
    if status == 429 or status >= 500:
        words = "Google Ads asked to slow down" if status == 429 else "Google Ads is unavailable"
        return SendResult("retry", status, data, words, _retry_after(response))
    if status == 401:
        return SendResult("retry", status, data, "Google did not accept the access token")
    for reason in reasons:
        if reason in REASON_WORDS:
            return SendResult("rejected", status, data, REASON_WORDS[reason])
    if status == 403:
        return SendResult("rejected", status, data, REASON_WORDS["PERMISSION_DENIED"])
    if status == 404:
        return SendResult("rejected", status, data, REASON_WORDS["NOT_FOUND"])
    detail = message or (reasons[0] if reasons else f"HTTP {status}")
    return SendResult("rejected", status, data, f"Google Ads refused the conversion: {detail}")


class GoogleAdsDestination:
    """Google Ads click conversions (Data Manager API)."""

    kind: ClassVar[str] = "google_ads"
    label: ClassVar[str] = "Google Ads"
    config_model: ClassVar[type[BaseModel]] = GoogleAdsConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"client_secret", "refresh_token"})
    # Data Manager ingests new conversions only; an adjustment would need the Ads API.
    on_change: ClassVar[OnChange] = "nothing"

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        settings = _as_config(config)
        if settings.upload == "file":
            return Skip(FILE_UPLOAD.code, FILE_UPLOAD.words)
        if conversion.restates:
            return Skip(
                "no_restatement", "Google Ads keeps the first report of a call; changes not sent"
            )
        refused = consent_refusal(facts)
        if refused is not None:
            return refused
        click = click_of(facts, settings.click_window, now)
        if isinstance(click, Skip):
            return click
        body = ingest_body(settings, facts, conversion, click)
        return Prepared(payload=body, dedupe_key=transaction_id(facts))

    def validate(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        """The same request with `validateOnly`: Google checks the sign-in, the account, the
        conversion action and the event, and stores nothing."""
        checked = Prepared(payload={**prepared.payload, "validateOnly": True}, dedupe_key="")
        return self.send(client, config, checked)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        settings = _as_config(config)
        token = access_token(client, settings)
        if isinstance(token, SendResult):
            return token
        url = settings.api_base_url.rstrip("/") + INGEST_PATH
        try:
            response = client.post(
                url, json=prepared.payload, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            return SendResult("retry", None, {}, f"could not reach Google Ads: {error}")
        if response.status_code == 401:
            TOKENS.drop(settings)
        return classify(response)

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        # The body holds no secret (the token travels in a header) and no personal data:
        # click ids stay visible so a marketer can find the conversion in Google Ads.
        return copy.deepcopy(payload)


DESTINATION = GoogleAdsDestination()

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "DESTINATION",
    "GOOGLE_CLICK_WINDOW",
    "GoogleAdsConfig",
    "click_of",
    "ingest_body",
    "rfc3339",
    "transaction_id",
]
