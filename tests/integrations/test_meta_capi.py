"""Meta Conversions API: the event built against Meta's own SDK and protocols.md, the 7-day
window and matching refusals in words, and the exchange with a local server speaking the
Graph API's answers and errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.user_data import UserData
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ringtrail.domain.conversion_rules import ConversionRule
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    Destination,
    Prepared,
    Skip,
    VisitFacts,
)
from ringtrail.integrations.meta_capi import DESTINATION, MetaConfig
from ringtrail.integrations.meta_user_data import sha256_hex
from ringtrail.integrations.registry import destination
from ringtrail.services.integration_checks import run_check, sample_conversion, sample_facts
from ringtrail.storage.models import Project
from tests.integrations.crm_facts import answered_call_facts
from tests.integrations.meta_stub import MetaStub

CALL_AT = datetime(2026, 9, 22, 14, 41, 40, tzinfo=UTC)
NOW = CALL_AT + timedelta(minutes=3)
PIXEL = "1234567890123"
TOKEN = "EAAG-token-for-tests"
FBC = "fb.1.1790184000000.IwAR2xYzAbC"
FBP = "fb.1.1790184000000.123456789"


def visit(**changes: Any) -> VisitFacts:
    values: dict[str, Any] = {"started_at": CALL_AT - timedelta(minutes=4), "fbc": FBC, "fbp": FBP}
    values.update(changes)
    return VisitFacts(**values)


def facts(**changes: Any) -> ConversionFacts:
    values: dict[str, Any] = {
        "project_id": 3,
        "subject_id": 123,
        "occurred_at": CALL_AT,
        "visit": visit(),
    }
    return answered_call_facts(values, changes)


def conversion(**changes: Any) -> Conversion:
    values: dict[str, Any] = {
        "name": "phone_call",
        "value": Decimal("50.00"),
        "currency": "UAH",
        "event": "conversion",
    }
    values.update(changes)
    return Conversion(**values)


def config(**changes: Any) -> MetaConfig:
    values: dict[str, Any] = {"pixel_id": PIXEL, "access_token": TOKEN}
    values.update(changes)
    return MetaConfig(**values)


def prepare(
    the_facts: ConversionFacts | None = None,
    the_conversion: Conversion | None = None,
    the_config: MetaConfig | None = None,
    now: datetime = NOW,
) -> Prepared | Skip:
    return DESTINATION.prepare(
        the_facts or facts(), the_conversion or conversion(), the_config or config(), now
    )


def prepared(**changes: Any) -> Prepared:
    found = prepare(facts(**changes))
    assert isinstance(found, Prepared), found
    return found


@pytest.fixture(name="stub")
def stub_fixture() -> Iterator[MetaStub]:
    stub = MetaStub(PIXEL, TOKEN, now=NOW.timestamp).start()
    yield stub
    stub.stop()


@pytest.fixture(name="client")
def client_fixture() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def test_the_registry_finds_meta_and_it_keeps_the_contract() -> None:
    found: Destination = destination("meta")
    assert found is DESTINATION
    assert found.config_model is MetaConfig
    assert found.secret_fields == frozenset({"access_token"})
    assert found.on_change == "nothing"


def test_the_event_matches_what_metas_own_sdk_builds() -> None:
    [event] = prepared().payload["data"]
    reference = Event(
        event_name="Contact",
        event_time=int(CALL_AT.timestamp()),
        event_id="rt-meta-3-call-123-conversion",
        user_data=UserData(phones=["+380501234567"], fbc=FBC, fbp=FBP),
        custom_data=CustomData(value=50.0, currency="UAH"),
        action_source=ActionSource.PHONE_CALL,
    ).normalize()
    assert event == reference


def test_the_event_field_by_field_as_protocols_md_shows_it() -> None:
    [event] = prepared().payload["data"]
    assert event["event_name"] == "Contact"
    assert event["event_time"] == 1790088100  # Unix seconds
    assert event["action_source"] == "phone_call"
    assert event["event_id"] == "rt-meta-3-call-123-conversion"
    assert event["user_data"] == {"ph": [sha256_hex("380501234567")], "fbc": FBC, "fbp": FBP}
    assert event["custom_data"] == {"value": 50.0, "currency": "uah"}


def test_metas_phone_test_vector() -> None:
    [event] = prepared(phone_e164="+12345678901", visit=None).payload["data"]
    assert event["user_data"] == {
        "ph": ["254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4"]
    }


def test_email_and_external_id_are_hashed_like_the_sdk() -> None:
    external = sha256_hex("person-42")
    [event] = prepared(email=" Anna@Shop.Example ", extra={"external_id": "person-42"}).payload[
        "data"
    ]
    reference = UserData(
        phones=["+380501234567"],
        emails=["Anna@Shop.Example"],
        external_ids=[external],
        fbc=FBC,
        fbp=FBP,
    ).normalize()
    assert event["user_data"] == reference


def test_an_fbclid_without_the_fbc_cookie_builds_fbc_from_the_visit() -> None:
    started = CALL_AT - timedelta(minutes=4)
    [event] = prepared(visit=visit(fbc=None, fbclid="IwAR-xyz")).payload["data"]
    assert event["user_data"]["fbc"] == f"fb.1.{int(started.timestamp() * 1000)}.IwAR-xyz"


def test_the_dedupe_key_is_the_event_id_and_stable_across_tries() -> None:
    first = prepared()
    later = prepare(now=NOW + timedelta(days=2))
    assert isinstance(later, Prepared)
    assert first.dedupe_key == later.dedupe_key == first.payload["data"][0]["event_id"]


def test_event_names() -> None:
    def name(
        the_conversion: Conversion, the_config: MetaConfig | None = None, **changes: Any
    ) -> str:
        found = prepare(facts(**changes), the_conversion, the_config)
        assert isinstance(found, Prepared)
        return str(found.payload["data"][0]["event_name"])

    assert name(conversion()) == "Contact"
    assert name(conversion(name="lead"), subject_kind="lead", lead_kind="call") == "Lead"
    assert name(conversion(name="Target call")) == "Target call"
    assert name(conversion(name="")) == "Contact"
    assert name(conversion(name="Target call"), config(event_name="Schedule")) == "Schedule"


def test_a_form_lead_is_a_website_event_with_its_page_and_browser() -> None:
    found = prepare(
        facts(
            subject_kind="lead",
            lead_kind="form",
            landing_page="https://shop.example/sale",
            visit=visit(user_agent="Mozilla/5.0"),
        ),
        conversion(name="lead", event="lead.created"),
    )
    assert isinstance(found, Prepared)
    [event] = found.payload["data"]
    assert event["action_source"] == "website"
    assert event["event_source_url"] == "https://shop.example/sale"
    assert event["user_data"]["client_user_agent"] == "Mozilla/5.0"
    no_page = prepare(facts(subject_kind="lead", lead_kind="form"), conversion(name="lead"))
    assert isinstance(no_page, Prepared)
    assert no_page.payload["data"][0]["action_source"] == "other"


def test_no_value_sends_no_custom_data_and_a_test_code_goes_along() -> None:
    found = prepare(facts(), conversion(value=None), config(test_event_code="TEST4242"))
    assert isinstance(found, Prepared)
    assert "custom_data" not in found.payload["data"][0]
    assert found.payload["test_event_code"] == "TEST4242"
    assert "access_token" not in found.payload


def test_seven_days_is_the_limit_and_older_is_explained() -> None:
    assert isinstance(prepare(now=CALL_AT + timedelta(days=7)), Prepared)
    late = prepare(now=CALL_AT + timedelta(days=7, seconds=1))
    assert isinstance(late, Skip)
    assert (late.code, late.words) == (
        "too_old_for_meta",
        "the call is 7 days old; Meta takes events up to 7 days old",
    )


def test_nothing_to_match_on_is_explained() -> None:
    found = prepare(facts(phone_e164=None, visit=visit(fbc=None, fbp=None)))
    assert isinstance(found, Skip)
    assert found.code == "nothing_to_match_for_meta"
    assert found.words == (
        "nothing Meta can match this call on: no caller phone number and no Facebook cookies "
        "(_fbp, _fbc) on the visit"
    )
    withheld = prepare(facts(phone_e164="anonymous", visit=None))
    assert isinstance(withheld, Skip)
    only_external = prepare(facts(phone_e164=None, visit=None, extra={"external_id": "p-1"}))
    assert isinstance(only_external, Skip)
    only_fbp = prepare(facts(phone_e164=None, visit=visit(fbc=None)))
    assert isinstance(only_fbp, Prepared)


def test_the_settings_refuse_what_meta_would() -> None:
    with pytest.raises(ValidationError):
        config(pixel_id="px-123")
    with pytest.raises(ValidationError):
        config(api_version="26")
    with pytest.raises(ValidationError):
        config(event_name="x" * 51)
    assert config(test_event_code="").test_event_code is None


def test_send_posts_the_event_with_the_token_in_the_body(
    stub: MetaStub, client: httpx.Client
) -> None:
    the_prepared = prepared()
    result = DESTINATION.send(
        client, config(api_base_url=stub.base_url, test_event_code="TEST1"), the_prepared
    )
    assert result.outcome == "accepted", result.reason
    assert result.response["body"]["events_received"] == 1
    assert stub.events == the_prepared.payload["data"]
    [request] = stub.requests
    assert request["path"] == f"/v26.0/{PIXEL}/events"
    assert request["params"]["access_token"] == TOKEN


def test_a_wrong_token_is_refused_in_words(stub: MetaStub, client: httpx.Client) -> None:
    result = DESTINATION.send(
        client, config(api_base_url=stub.base_url, access_token="EAAG-old"), prepared()
    )
    assert (result.outcome, result.status_code) == ("rejected", 400)
    assert result.reason.startswith(
        "Meta refused the access token: it is wrong, expired or revoked"
    )
    assert "Meta trace id A" in result.reason


def test_an_unknown_pixel_is_refused_in_words(stub: MetaStub, client: httpx.Client) -> None:
    result = DESTINATION.send(
        client, config(api_base_url=stub.base_url, pixel_id="99999"), prepared()
    )
    assert result.outcome == "rejected"
    assert result.reason.startswith("Meta has no pixel 99999 that this access token can see")


def test_an_event_meta_finds_too_old_is_refused_with_metas_words(
    stub: MetaStub, client: httpx.Client
) -> None:
    stub.now = (NOW + timedelta(days=8)).timestamp
    result = DESTINATION.send(client, config(api_base_url=stub.base_url), prepared())
    assert result.outcome == "rejected"
    assert result.reason.startswith("Meta refused the event: Event Timestamp Too Old: ")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, {"code": 2, "message": "Service temporarily unavailable", "is_transient": True}),
        (400, {"code": 17, "message": "User request limit reached"}),
        (400, {"code": 4, "message": "Application request limit reached"}),
        (503, {"code": 1, "message": "An unknown error occurred"}),
    ],
)
def test_transient_errors_and_rate_limits_are_retried(
    stub: MetaStub, client: httpx.Client, status: int, error: dict[str, Any]
) -> None:
    stub.fail_next = (status, error)
    result = DESTINATION.send(client, config(api_base_url=stub.base_url), prepared())
    assert result.outcome == "retry"
    assert result.reason.startswith("Meta is busy or limiting requests")
    assert stub.events == []


def test_a_permission_error_is_refused(stub: MetaStub, client: httpx.Client) -> None:
    stub.fail_next = (403, {"code": 200, "message": "Permissions error"})
    result = DESTINATION.send(client, config(api_base_url=stub.base_url), prepared())
    assert result.outcome == "rejected"
    assert result.reason.startswith(f"the access token may not send events to pixel {PIXEL}")


def test_an_unreachable_graph_is_retried(client: httpx.Client) -> None:
    result = DESTINATION.send(client, config(api_base_url="http://127.0.0.1:9"), prepared())
    assert result.outcome == "retry"


def test_the_log_hides_the_token_and_the_hashes_but_keeps_the_cookies() -> None:
    payload = prepared(email="a@b.example", extra={"external_id": "p-1"}).payload
    masked = DESTINATION.masked({**payload, "access_token": TOKEN}, config())
    assert masked["access_token"] == "••••"
    user_data = masked["data"][0]["user_data"]
    assert user_data["ph"] == user_data["em"] == user_data["external_id"] == ["sha256:••••"]
    assert (user_data["fbc"], user_data["fbp"]) == (FBC, FBP)
    assert payload["data"][0]["user_data"]["ph"] != ["sha256:••••"]  # the original is untouched


def test_the_send_a_test_path_reaches_the_pixel(stub: MetaStub) -> None:
    project = Project(id=1, timezone="Europe/Kyiv", currency="UAH", default_country="UA")
    sample = sample_facts(project, NOW)
    outcome = run_check(
        DESTINATION,
        config(api_base_url=stub.base_url, test_event_code="TEST1"),
        sample,
        sample_conversion(DESTINATION, ConversionRule(), sample),
        NOW,
    )
    assert outcome.outcome == "accepted", outcome.reason
    assert stub.test_codes == ["TEST1"]
    assert outcome.payload["data"][0]["user_data"]["ph"] == ["sha256:••••"]


@settings(max_examples=60, deadline=None)
@given(
    phone=st.none() | st.text(max_size=20) | st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    email=st.none() | st.emails(),
    name=st.text(max_size=60),
    value=st.none() | st.decimals(min_value=0, max_value=10**9, places=2),
    age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=8)),
)
def test_whatever_meta_gets_sent_it_would_take(
    phone: str | None, email: str | None, name: str, value: Decimal | None, age: timedelta
) -> None:
    found = prepare(
        facts(phone_e164=phone, email=email, occurred_at=NOW - age, visit=None),
        conversion(name=name, value=value),
    )
    stub = MetaStub(PIXEL, TOKEN, now=NOW.timestamp)
    if isinstance(found, Prepared):
        [event] = found.payload["data"]
        assert stub.problem(event) is None
        assert 0 < len(event["event_name"]) <= 50
    else:
        assert found.code in {"too_old_for_meta", "nothing_to_match_for_meta"}
