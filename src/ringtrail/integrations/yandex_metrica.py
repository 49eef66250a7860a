"""Yandex Metrica offline calls: each call uploaded as a one-row calls CSV.

`POST /management/v1/counter/{counterId}/offline_conversions/upload_calls?client_id_type=…`
with the CSV as the multipart part `file` and `Authorization: OAuth <token>` (a token with
`metrika:offline_data` or `metrika:write`). Metrica answers `{"uploading": {id, status…}}`
and processes the file within about two hours; errors are JSON with `errors[]`
(`error_type`, `message`), 401/403 for the token, 429 for quotas.

One upload per call keeps deliveries independent (a retry resends exactly one call; a bad
call cannot sink others), within Metrica's quotas (5,000 requests a day per user, 3 at once):
a project with more calls a day should use the CSV file (`yandex_files`) instead. A call
needs the visit's ClientId (`_ym_uid`) or yclid, and a visit at most 21 days old.
"""

from __future__ import annotations

import copy
import csv
import io
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, Field, field_validator, model_validator

from ringtrail.domain.click_windows import (
    NO_VISIT,
    NO_YANDEX_ID,
    YANDEX_LINK_WINDOW,
    YandexId,
    YandexIdKind,
    check_yandex_window,
    yandex_id,
)
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)
from ringtrail.integrations.yandex_files import YandexCallRow, header

DEFAULT_API_BASE_URL = "https://api-metrika.yandex.net"
COMMENT_LIMIT = 255
FILE_UPLOAD = Skip(
    "file_upload", "this destination is uploaded by file: download the calls file from its page"
)


class YandexMetricaConfig(BaseModel):
    """A Metrica counter to upload calls to."""

    upload: Literal["api", "file"] = Field(
        default="api",
        description="api: Ringtrail uploads each call; file: you upload the calls file.",
    )
    counter_id: str = Field(default="", description="Metrica counter (tag) number.")
    oauth_token: str = Field(
        default="", description="OAuth token with the metrika:offline_data right."
    )
    id_type: Literal["AUTO", "CLIENT_ID", "YCLID"] = Field(
        default="AUTO",
        description="Which visitor id to link calls on; AUTO: ClientId, else yclid.",
    )
    send_phone_number: bool = Field(default=True, description="Put the caller's number in.")
    call_tracker_url: str = Field(
        default="",
        description="Link to a call in Ringtrail; {call_id} is replaced by the call's id.",
    )
    link_window_days: int = Field(default=21, ge=1, le=365)
    api_base_url: str = DEFAULT_API_BASE_URL

    @field_validator("counter_id")
    @classmethod
    def _digits(cls, value: str) -> str:
        value = value.strip()
        if value and not value.isdigit():
            raise ValueError("must be the counter's number, digits only")
        return value

    @model_validator(mode="after")
    def _api_needs_its_fields(self) -> YandexMetricaConfig:
        if self.upload == "api":
            missing = [n for n in ("counter_id", "oauth_token") if not getattr(self, n).strip()]
            if missing:
                raise ValueError(
                    f"{', '.join(missing)}: needed to upload through the API "
                    "(or choose upload by file)"
                )
        return self

    @property
    def preferred(self) -> YandexIdKind | None:
        return None if self.id_type == "AUTO" else self.id_type

    @property
    def link_window(self) -> timedelta:
        return timedelta(days=self.link_window_days)


def _as_config(config: BaseModel) -> YandexMetricaConfig:
    if isinstance(config, YandexMetricaConfig):
        return config
    return YandexMetricaConfig.model_validate(config.model_dump())


def visitor_of(
    facts: ConversionFacts, config: YandexMetricaConfig, now: datetime, *, window: bool = True
) -> YandexId | Skip:
    """The visitor id a call is linked on, or why it cannot be sent."""
    visit = facts.visit
    if visit is None:
        return Skip(NO_VISIT.code, NO_VISIT.words)
    found = yandex_id(visit.ym_uid, visit.yclid, config.preferred)
    if found is None:
        return Skip(NO_YANDEX_ID.code, NO_YANDEX_ID.words)
    if window:
        refusal = check_yandex_window(visit.started_at, facts.occurred_at, now, config.link_window)
        if refusal is not None:
            return Skip(refusal.code, refusal.words)
    return found


def call_row(
    facts: ConversionFacts, conversion: Conversion, config: YandexMetricaConfig, visitor: YandexId
) -> YandexCallRow:
    """The call as a row of Metrica's calls CSV."""
    hold: int | None = None
    if facts.duration_seconds is not None:
        hold = max(facts.duration_seconds - (facts.talk_seconds or 0), 0)
    url = facts.landing_page or (facts.visit.landing_url if facts.visit else "") or ""
    tracker = (
        config.call_tracker_url.replace("{call_id}", str(facts.subject_id))
        if config.call_tracker_url and facts.subject_kind == "call"
        else ""
    )
    return YandexCallRow(
        visitor=visitor,
        called_at=facts.occurred_at,
        phone=facts.phone_e164 if config.send_phone_number else None,
        talk_seconds=facts.talk_seconds,
        hold_seconds=hold,
        missed=not facts.answered,
        tag=conversion.name,
        first_time=facts.is_first_time,
        url=url,
        tracker_url=tracker,
        price=conversion.value,
        currency=conversion.currency,
    )


def upload_comment(facts: ConversionFacts) -> str:
    return f"Ringtrail {facts.subject_kind} {facts.subject_id}"[:COMMENT_LIMIT]


def csv_of(payload: dict[str, Any]) -> str:
    """The one-row CSV a prepared payload uploads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(payload["columns"])
    writer.writerow(payload["row"])
    return out.getvalue()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"body": response.text[:2000]}
    return data if isinstance(data, dict) else {"body": data}


def _first_error(data: dict[str, Any]) -> tuple[str, str]:
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("error_type", "")), str(errors[0].get("message", ""))
    return "", str(data.get("message", ""))


def classify(response: httpx.Response, counter_id: str) -> SendResult:
    """Metrica's answer to an upload as accepted / rejected / retry, in words."""
    data = _json(response)
    status = response.status_code
    if status == 200 and isinstance(data.get("uploading"), dict):
        return SendResult("accepted", status, data)
    error_type, message = _first_error(data)
    if status == 429 or error_type == "quota" or status >= 500:
        words = (
            "Yandex Metrica's request quota is used up for now"
            if status == 429 or error_type == "quota"
            else "Yandex Metrica is unavailable"
        )
        retry_after = response.headers.get("retry-after", "")
        seconds = float(retry_after) if retry_after.strip().isdigit() else None
        return SendResult("retry", status, data, words, seconds)
    if status == 401 or error_type in ("invalid_token", "unauthorized"):
        words = (
            "Yandex refused the OAuth token (expired, revoked or without the "
            "metrika:offline_data right); connect Metrica again"
        )
        return SendResult("rejected", status, data, words)
    if status == 403:
        words = f"the token's Yandex account has no access to counter {counter_id}"
        return SendResult("rejected", status, data, words)
    if status == 404:
        return SendResult("rejected", status, data, f"Yandex Metrica has no counter {counter_id}")
    if status == 200:
        return SendResult("rejected", status, data, "Yandex Metrica answered without an upload")
    detail = message or error_type or f"HTTP {status}"
    return SendResult("rejected", status, data, f"Yandex Metrica refused the call: {detail}")


def mask_phone(phone: str) -> str:
    """`+380501234567` → `+38050***4567`: enough to recognise, not to dial."""
    if len(phone) <= 7:
        return "***"
    return phone[:6] + "***" + phone[-4:]


class YandexMetricaDestination:
    """Yandex Metrica offline calls (one upload per call)."""

    kind: ClassVar[str] = "yandex_metrica"
    label: ClassVar[str] = "Yandex Metrica"
    config_model: ClassVar[type[BaseModel]] = YandexMetricaConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"oauth_token"})
    # A second upload of the same call would count it twice; Metrica has no update.
    on_change: ClassVar[OnChange] = "nothing"

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        settings = _as_config(config)
        if settings.upload == "file":
            return Skip(FILE_UPLOAD.code, FILE_UPLOAD.words)
        if conversion.restates:
            return Skip("no_restatement", "Metrica keeps the first upload of a call; not resent")
        visitor = visitor_of(facts, settings, now)
        if isinstance(visitor, Skip):
            return visitor
        row = call_row(facts, conversion, settings, visitor)
        columns = header(visitor.kind)
        cells = row.cells()
        payload = {
            "counter_id": settings.counter_id,
            "client_id_type": visitor.kind,
            "comment": upload_comment(facts),
            "columns": list(columns),
            "row": [cells[column] for column in columns],
        }
        return Prepared(
            payload=payload, dedupe_key=f"ringtrail-{facts.subject_kind}-{facts.subject_id}"
        )

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        settings = _as_config(config)
        payload = prepared.payload
        url = (
            f"{settings.api_base_url.rstrip('/')}/management/v1/counter/"
            f"{settings.counter_id}/offline_conversions/upload_calls"
        )
        try:
            response = client.post(
                url,
                params={"client_id_type": payload["client_id_type"], "comment": payload["comment"]},
                files={"file": ("calls.csv", csv_of(payload).encode(), "text/csv")},
                headers={"Authorization": f"OAuth {settings.oauth_token}"},
            )
        except httpx.HTTPError as error:
            return SendResult("retry", None, {}, f"could not reach Yandex Metrica: {error}")
        return classify(response, settings.counter_id)

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        shown = copy.deepcopy(payload)
        columns = shown.get("columns") or []
        row = shown.get("row") or []
        if "PhoneNumber" in columns:
            at = columns.index("PhoneNumber")
            if at < len(row) and row[at]:
                row[at] = mask_phone(str(row[at]))
        return shown


DESTINATION = YandexMetricaDestination()

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DESTINATION",
    "YANDEX_LINK_WINDOW",
    "YandexMetricaConfig",
    "call_row",
    "csv_of",
    "visitor_of",
]
