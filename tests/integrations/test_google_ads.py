"""Google Ads click conversions through the Data Manager API: the request checked field by
field against Google's own client library, the click window before sending, and every
answer of a local server speaking Google's token and ingest formats, in words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from google.ads.datamanager_v1 import (
    AdIdentifiers,
    Consent,
    ConsentStatus,
    Destination,
    Event,
    IngestEventsRequest,
    ProductAccount,
)
from pydantic import ValidationError

from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    Prepared,
    Skip,
    VisitFacts,
)
from ringtrail.integrations.base import Destination as DestinationContract
from ringtrail.integrations.google_ads import DESTINATION, TOKENS, GoogleAdsConfig
from ringtrail.integrations.registry import destination
from tests.integrations.crm_facts import answered_call_facts
from tests.integrations.google_ads_stub import GoogleStub

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CALLED = datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC)
GCLID = "Cj0KCQiA-example_gclid"


def visit(**changes: object) -> VisitFacts:
    base = VisitFacts(
        started_at=CALLED - timedelta(minutes=20),
        landing_url="https://acme.example/flats?gclid=" + GCLID,
        source="google",
        medium="cpc",
        gclid=GCLID,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def facts(**changes: object) -> ConversionFacts:
    values: dict[str, object] = {
        "project_id": 1,
        "subject_id": 4242,
        "occurred_at": CALLED,
        "visit": visit(),
    }
    return answered_call_facts(values, changes)


CONVERSION = Conversion(
    name="Phone call", value=Decimal("150.00"), currency="UAH", event="conversion"
)


def config(**changes: object) -> GoogleAdsConfig:
    values: dict[str, object] = {
        "operating_account_id": "123-456-7890",
        "conversion_action_id": "555000111",
        "client_id": "client-1.apps.googleusercontent.com",
        "client_secret": "client-secret-1",
        "refresh_token": "refresh-token-1",
    }
    values.update(changes)
    return GoogleAdsConfig.model_validate(values)


def prepared(settings: GoogleAdsConfig, **fact_changes: object) -> Prepared:
    result = DESTINATION.prepare(facts(**fact_changes), CONVERSION, settings, NOW)
    assert isinstance(result, Prepared), result
    return result


def official(request: IngestEventsRequest) -> dict[str, object]:
    text = IngestEventsRequest.to_json(
        request, use_integers_for_enums=False, always_print_fields_with_no_presence=False
    )
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_the_registry_finds_the_destination() -> None:
    typed: DestinationContract = DESTINATION  # mypy checks it keeps the destination contract
    assert typed is destination("google_ads")
    found = destination("google_ads")
    assert found.kind == "google_ads"
    assert found.secret_fields == {"client_secret", "refresh_token"}


def test_the_request_is_what_googles_library_builds_field_by_field() -> None:
    body = prepared(config()).payload
    reference = IngestEventsRequest(
        destinations=[
            Destination(
                operating_account=ProductAccount(
                    account_type=ProductAccount.AccountType.GOOGLE_ADS, account_id="1234567890"
                ),
                product_destination_id="555000111",
            )
        ],
        events=[
            Event(
                transaction_id="ringtrail-call-4242",
                event_timestamp=CALLED,
                ad_identifiers=AdIdentifiers(gclid=GCLID),
                currency="UAH",
                conversion_value=150.0,
            )
        ],
    )
    expected = official(reference)
    assert body == expected
    event = body["events"][0]
    assert event["eventTimestamp"] == "2026-12-07T09:30:15Z"  # RFC 3339, UTC
    assert set(event["adIdentifiers"]) == {"gclid"}
    assert body["destinations"][0]["operatingAccount"]["accountType"] == "GOOGLE_ADS"


def test_manager_access_consent_ios_ids_and_validate_only_match_the_library_too() -> None:
    settings = config(login_account_id="111-222-3333", validate_only=True)
    body = prepared(
        settings,
        visit=visit(gclid=None, wbraid="WBRAID-1"),
        consent={"ad_user_data": True, "ad_personalization": False},
    ).payload
    reference = IngestEventsRequest(
        destinations=[
            Destination(
                operating_account=ProductAccount(
                    account_type=ProductAccount.AccountType.GOOGLE_ADS, account_id="1234567890"
                ),
                login_account=ProductAccount(
                    account_type=ProductAccount.AccountType.GOOGLE_ADS, account_id="1112223333"
                ),
                product_destination_id="555000111",
            )
        ],
        events=[
            Event(
                transaction_id="ringtrail-call-4242",
                event_timestamp=CALLED,
                ad_identifiers=AdIdentifiers(wbraid="WBRAID-1"),
                currency="UAH",
                conversion_value=150.0,
                consent=Consent(
                    ad_user_data=ConsentStatus.CONSENT_GRANTED,
                    ad_personalization=ConsentStatus.CONSENT_DENIED,
                ),
            )
        ],
        validate_only=True,
    )
    assert body == official(reference)
    # And Google's parser takes our JSON as it is, with no unknown field.
    IngestEventsRequest.from_json(json.dumps(body))


def test_a_conversion_without_value_carries_no_value_field() -> None:
    no_value = replace(CONVERSION, value=None)
    result = DESTINATION.prepare(facts(), no_value, config(), NOW)
    assert isinstance(result, Prepared)
    assert "conversionValue" not in result.payload["events"][0]


def test_the_dedupe_key_is_the_transaction_id_and_stable() -> None:
    first = prepared(config())
    again = DESTINATION.prepare(
        facts(talk_seconds=300), CONVERSION, config(), NOW + timedelta(hours=1)
    )
    assert isinstance(again, Prepared)
    assert first.dedupe_key == again.dedupe_key == "ringtrail-call-4242"
    assert first.payload["events"][0]["transactionId"] == first.dedupe_key


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"visit": None}, "no_visit", "the call was not tied to a website visit"),
        (
            {"visit": visit(gclid=None, source="google", medium="organic")},
            "no_gclid",
            "no gclid: the visit came from organic search",
        ),
        (
            {"visit": visit(started_at=NOW - timedelta(days=91))},
            "click_too_old",
            "click older than 90 days",
        ),
        (
            {"visit": visit(started_at=CALLED + timedelta(minutes=1))},
            "conversion_before_click",
            "conversion time is before the click",
        ),
        ({"consent": {"ad_user_data": False}}, "consent_denied", "consent not given"),
    ],
)
def test_calls_google_cannot_match_are_skipped_with_the_reason(
    changes: dict[str, object], code: str, words: str
) -> None:
    result = DESTINATION.prepare(facts(**changes), CONVERSION, config(), NOW)
    assert isinstance(result, Skip)
    assert result.code == code
    assert result.words.startswith(words)


def test_a_later_change_is_not_sent_and_a_file_destination_sends_nothing() -> None:
    restated = DESTINATION.prepare(facts(), replace(CONVERSION, restates=True), config(), NOW)
    assert isinstance(restated, Skip) and restated.code == "no_restatement"
    by_file = DESTINATION.prepare(facts(), CONVERSION, GoogleAdsConfig(upload="file"), NOW)
    assert isinstance(by_file, Skip) and "download the import file" in by_file.words


def test_api_upload_needs_the_account_the_action_and_the_sign_in() -> None:
    with pytest.raises(ValidationError, match="refresh_token"):
        GoogleAdsConfig(operating_account_id="1", conversion_action_id="2", client_id="c",
                        client_secret="s")  # fmt: skip
    with pytest.raises(ValidationError, match="digits"):
        config(operating_account_id="acme")
    assert GoogleAdsConfig(upload="file").upload == "file"


@pytest.fixture
def stub() -> Iterator[GoogleStub]:
    TOKENS.clear()
    server = GoogleStub().start()
    yield server
    server.stop()
    TOKENS.clear()


def on(stub: GoogleStub, **changes: object) -> GoogleAdsConfig:
    return config(token_url=stub.token_url, api_base_url=stub.base_url, **changes)


def test_an_accepted_conversion_signs_in_once_and_reuses_the_token(stub: GoogleStub) -> None:
    settings = on(stub)
    with httpx.Client(timeout=5) as client:
        first = DESTINATION.send(client, settings, prepared(settings))
        second = DESTINATION.send(client, settings, prepared(settings, subject_id=4243))
    assert first.outcome == second.outcome == "accepted"
    assert first.status_code == 200 and "requestId" in first.response
    assert stub.token_requests == 1
    assert [b["events"][0]["transactionId"] for b in stub.ingested] == [
        "ringtrail-call-4242",
        "ringtrail-call-4243",
    ]


def test_validate_asks_google_to_check_without_storing(stub: GoogleStub) -> None:
    settings = on(stub)
    with httpx.Client(timeout=5) as client:
        result = DESTINATION.validate(client, settings, prepared(settings))
    assert result.outcome == "accepted"
    assert stub.ingested[0]["validateOnly"] is True


def test_an_expired_token_is_retried_with_a_new_one(stub: GoogleStub) -> None:
    settings = on(stub)
    with httpx.Client(timeout=5) as client:
        assert DESTINATION.send(client, settings, prepared(settings)).outcome == "accepted"
        stub.revoke_tokens()
        expired = DESTINATION.send(client, settings, prepared(settings))
        again = DESTINATION.send(client, settings, prepared(settings))
    assert expired.outcome == "retry" and expired.status_code == 401
    assert again.outcome == "accepted"
    assert stub.token_requests == 2


def test_a_revoked_refresh_token_is_refused_in_words(stub: GoogleStub) -> None:
    settings = on(stub, refresh_token="revoked")
    with httpx.Client(timeout=5) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == "rejected" and result.status_code == 400
    assert "refresh token was revoked or has expired" in result.reason


def test_an_unknown_conversion_action_is_refused_in_words(stub: GoogleStub) -> None:
    settings = on(stub, conversion_action_id="999")
    with httpx.Client(timeout=5) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == "rejected" and result.status_code == 400
    assert result.reason == "Google Ads has no such conversion action; check its id"
    assert stub.ingested == []


@pytest.mark.parametrize(
    ("fail", "outcome", "words"),
    [
        ((503, "The service is currently unavailable.", None), "retry", "unavailable"),
        ((429, "Quota exceeded.", None), "retry", "slow down"),
        ((500, "Internal error.", "INTERNAL_ERROR"), "retry", "unavailable"),
        ((400, "Too new.", "CONVERSION_ACTION_TOO_RECENTLY_CREATED"), "retry", "moments ago"),
        ((400, "Bad time.", "EVENT_TIME_INVALID"), "rejected", "conversion time"),
        ((403, "The caller does not have permission", None), "rejected", "no access"),
        ((400, "Terms.", "TERMS_AND_CONDITIONS_NOT_SIGNED"), "rejected", "terms"),
        ((400, "Something new.", "SOMETHING_NEW"), "rejected", "Something new."),
    ],
)
def test_google_errors_become_retry_or_rejected_in_words(
    stub: GoogleStub, fail: tuple[int, str, str | None], outcome: str, words: str
) -> None:
    settings = on(stub)
    stub.fail_next = fail
    with httpx.Client(timeout=5) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == outcome
    assert result.status_code == fail[0]
    assert words in result.reason
    if fail[2] == "CONVERSION_ACTION_TOO_RECENTLY_CREATED":
        assert result.retry_after_seconds == 6 * 3600


def test_an_unreachable_google_is_retried() -> None:
    TOKENS.clear()
    settings = config(token_url="http://127.0.0.1:9/token", api_base_url="http://127.0.0.1:9")
    with httpx.Client(timeout=1) as client:
        result = DESTINATION.send(client, settings, prepared(settings))
    assert result.outcome == "retry"
    assert "could not reach Google" in result.reason


def test_the_log_shows_the_click_id_and_never_a_secret() -> None:
    settings = config()
    body = prepared(settings).payload
    shown = DESTINATION.masked(body, settings)
    assert shown == body and shown is not body
    text = json.dumps(shown)
    assert "client-secret-1" not in text and "refresh-token-1" not in text
