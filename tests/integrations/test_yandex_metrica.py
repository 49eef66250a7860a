"""Yandex Metrica offline calls: the calls CSV checked column by column against the documented
format, the one-row upload against a local server speaking Metrica's upload API and errors,
and the calls Metrica cannot link skipped in words."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from ringtrail.domain.click_windows import YandexId
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    Destination,
    Prepared,
    Skip,
    VisitFacts,
)
from ringtrail.integrations.registry import destination
from ringtrail.integrations.yandex_files import YandexCallRow, calls_csv
from ringtrail.integrations.yandex_metrica import DESTINATION, YandexMetricaConfig, csv_of
from tests.integrations.crm_facts import answered_call_facts
from tests.integrations.yandex_stub import YandexStub

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CALLED = datetime.fromtimestamp(1790184100, UTC)
YM_UID = "1628529640459314054"
CONVERSION = Conversion(name="target", value=None, currency="UAH", event="conversion")


def visit(**changes: object) -> VisitFacts:
    base = VisitFacts(
        started_at=CALLED - timedelta(minutes=5),
        landing_url="https://example.ua/landing",
        source="yandex",
        medium="cpc",
        ym_uid=YM_UID,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def facts(**changes: object) -> ConversionFacts:
    values: dict[str, object] = {
        "project_id": 1,
        "subject_id": 77,
        "occurred_at": CALLED,
        "duration_seconds": 102,
        "is_first_time": True,
        "landing_page": "https://example.ua/landing",
        "visit": visit(),
    }
    return answered_call_facts(values, changes)


def config(**changes: object) -> YandexMetricaConfig:
    values: dict[str, object] = {"counter_id": "98765432", "oauth_token": "y0_token-1"}
    values.update(changes)
    return YandexMetricaConfig.model_validate(values)


def prepared(settings: YandexMetricaConfig, **fact_changes: object) -> Prepared:
    result = DESTINATION.prepare(facts(**fact_changes), CONVERSION, settings, CALLED)
    assert isinstance(result, Prepared), result
    return result


def test_the_registry_finds_the_destination() -> None:
    typed: Destination = DESTINATION  # mypy checks it keeps the destination contract
    assert typed is destination("yandex_metrica")
    found = destination("yandex_metrica")
    assert found.kind == "yandex_metrica" and found.secret_fields == {"oauth_token"}


def test_the_one_row_csv_matches_the_documented_example() -> None:
    # protocols.md §4 example: ClientId,DateTime,PhoneNumber,TalkDuration,HoldDuration,
    # CallMissed,Tag,FirstTimeCaller,URL,StaticCall with 1628529640459314054,1790184100,...
    text = csv_of(prepared(config()).payload)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert next(iter(row)) == "ClientId"
    expected = {
        "ClientId": YM_UID,
        "DateTime": "1790184100",
        "PhoneNumber": "+380501234567",
        "TalkDuration": "95",
        "HoldDuration": "7",
        "CallMissed": "0",
        "Tag": "target",
        "FirstTimeCaller": "1",
        "URL": "https://example.ua/landing",
        "StaticCall": "0",
    }
    assert {key: row[key] for key in expected} == expected
    assert row["Price"] == row["Currency"] == ""


def test_a_value_goes_in_price_with_a_dot_and_its_currency() -> None:
    valued = replace(CONVERSION, value=Decimal("1250.5"))
    result = DESTINATION.prepare(facts(), valued, config(), CALLED)
    assert isinstance(result, Prepared)
    row = next(csv.DictReader(io.StringIO(csv_of(result.payload))))
    assert (row["Price"], row["Currency"]) == ("1250.50", "UAH")


def test_a_yclid_only_visit_is_uploaded_as_yclid() -> None:
    result = prepared(config(), visit=visit(ym_uid=None, yclid="5739201"))
    assert result.payload["client_id_type"] == "YCLID"
    assert result.payload["columns"][0] == "Yclid" and result.payload["row"][0] == "5739201"


def test_a_missed_call_and_a_tracker_link() -> None:
    settings = config(call_tracker_url="https://rt.example/calls/{call_id}")
    result = prepared(settings, answered=False, talk_seconds=0, duration_seconds=20)
    row = dict(zip(result.payload["columns"], result.payload["row"], strict=True))
    assert (row["CallMissed"], row["HoldDuration"], row["TalkDuration"]) == ("1", "20", "0")
    assert row["CallTrackerURL"] == "https://rt.example/calls/77"


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        (
            {"visit": visit(ym_uid=None, yclid=None)},
            "no_yandex_id",
            "no Yandex ClientId or yclid on the visit",
        ),
        ({"visit": None}, "no_visit", "the call was not tied to a website visit"),
        (
            {"visit": visit(started_at=CALLED - timedelta(days=22))},
            "visit_too_old",
            "visit older than 21 days",
        ),
        (
            {"visit": visit(started_at=CALLED + timedelta(minutes=1))},
            "call_before_visit",
            "the call is before the visit",
        ),
    ],
)
def test_calls_metrica_cannot_link_are_skipped_in_words(
    changes: dict[str, object], code: str, words: str
) -> None:
    result = DESTINATION.prepare(facts(**changes), CONVERSION, config(), CALLED)
    assert isinstance(result, Skip)
    assert (result.code, result.words[: len(words)]) == (code, words)


def test_the_log_masks_the_callers_number() -> None:
    settings = config()
    payload = prepared(settings).payload
    shown = DESTINATION.masked(payload, settings)
    row = dict(zip(shown["columns"], shown["row"], strict=True))
    assert row["PhoneNumber"] == "+38050***4567"
    assert "+380501234567" in payload["row"]  # the payload itself is untouched


def test_api_upload_needs_a_counter_and_a_token() -> None:
    with pytest.raises(ValidationError, match="oauth_token"):
        YandexMetricaConfig(counter_id="1")
    with pytest.raises(ValidationError, match="digits"):
        config(counter_id="abc")
    assert YandexMetricaConfig(upload="file").upload == "file"


def test_a_file_mixes_no_id_types() -> None:
    mixed = YandexCallRow(YandexId("YCLID", "1"), CALLED, None, None, None, False, "", None,
                          "", "", None, "UAH")  # fmt: skip
    with pytest.raises(ValueError, match="YCLID row in a CLIENT_ID file"):
        calls_csv([mixed], "CLIENT_ID")


@pytest.fixture
def stub() -> Iterator[YandexStub]:
    server = YandexStub().start()
    yield server
    server.stop()


def test_an_upload_is_a_multipart_csv_with_the_oauth_header(stub: YandexStub) -> None:
    settings = config(api_base_url=stub.base_url)
    with httpx.Client(timeout=5) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == "accepted" and result.status_code == 200
    assert result.response["uploading"]["status"] == "UPLOADED"
    (upload,) = stub.uploads
    assert upload.query == {"client_id_type": "CLIENT_ID", "comment": "Ringtrail call 77"}
    assert upload.rows[0][0] == "ClientId" and upload.rows[1][0] == YM_UID
    assert upload.filename.endswith(".csv")


@pytest.mark.parametrize(
    ("changes", "fail", "outcome", "words"),
    [
        ({"oauth_token": "wrong"}, None, "rejected", "Yandex refused the OAuth token"),
        ({"counter_id": "1"}, None, "rejected", "no access to counter 1"),
        ({}, (429, "quota", "Too many requests"), "retry", "quota"),
        ({}, (503, "backend_error", "Service unavailable"), "retry", "unavailable"),
        ({}, (400, "invalid_parameter", "Wrong DateTime"), "rejected", "Wrong DateTime"),
    ],
)
def test_metrica_errors_become_retry_or_rejected_in_words(
    stub: YandexStub,
    changes: dict[str, object],
    fail: tuple[int, str, str] | None,
    outcome: str,
    words: str,
) -> None:
    settings = config(api_base_url=stub.base_url, **changes)
    stub.fail_next = fail
    with httpx.Client(timeout=5) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == outcome
    assert words in result.reason
    assert stub.uploads == []


def test_an_unreachable_metrica_is_retried() -> None:
    settings = config(api_base_url="http://127.0.0.1:9")
    with httpx.Client(timeout=1) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == "retry" and "could not reach Yandex Metrica" in result.reason
