"""GA4 Measurement Protocol: the event tied to the visitor, checked field by field against the
reference, refusals in words, and the exchange with a local server speaking GA4's format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
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
from ringtrail.integrations.ga4 import DESTINATION, Ga4Config
from ringtrail.integrations.ga4_limits import check_payload
from ringtrail.integrations.registry import destination
from ringtrail.services.integration_checks import run_check, sample_conversion, sample_facts
from ringtrail.storage.models import Project
from tests.integrations.crm_facts import answered_call_facts
from tests.integrations.ga4_stub import Ga4Stub, debug_messages

CALL_AT = datetime(2026, 9, 22, 14, 41, 40, 250000, tzinfo=UTC)
NOW = CALL_AT + timedelta(minutes=3)
SECRET = "mp-secret-Zx81"


def visit(**changes: Any) -> VisitFacts:
    values: dict[str, Any] = {
        "started_at": CALL_AT - timedelta(minutes=4),
        "ga_client_id": "1987535338.1790184089",
        "ga_session_id": "1790184088",
    }
    values.update(changes)
    return VisitFacts(**values)


def facts(**changes: Any) -> ConversionFacts:
    values: dict[str, Any] = {
        "project_id": 3,
        "subject_id": 123,
        "occurred_at": CALL_AT,
        "duration_seconds": 110,
        "status": "answered",
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


def config(**changes: Any) -> Ga4Config:
    values: dict[str, Any] = {"measurement_id": "G-ABC123XYZ", "api_secret": SECRET}
    values.update(changes)
    return Ga4Config(**values)


def prepared(**changes: Any) -> Prepared:
    found = DESTINATION.prepare(facts(**changes), conversion(), config(), NOW)
    assert isinstance(found, Prepared), found
    return found


def skipped(
    the_facts: ConversionFacts,
    the_conversion: Conversion | None = None,
    the_config: Ga4Config | None = None,
    now: datetime = NOW,
) -> Skip:
    found = DESTINATION.prepare(
        the_facts, the_conversion or conversion(), the_config or config(), now
    )
    assert isinstance(found, Skip), found
    return found


@pytest.fixture(name="stub")
def stub_fixture() -> Iterator[Ga4Stub]:
    stub = Ga4Stub().start()
    yield stub
    stub.stop()


@pytest.fixture(name="client")
def client_fixture() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def test_the_registry_finds_ga4_and_it_keeps_the_contract() -> None:
    found: Destination = destination("ga4")
    assert found is DESTINATION
    assert found.config_model is Ga4Config
    assert found.secret_fields == frozenset({"api_secret"})
    assert found.on_change == "nothing"


def test_the_event_is_the_documented_phone_call_field_by_field() -> None:
    payload = prepared().payload
    assert payload == {
        "client_id": "1987535338.1790184089",
        "timestamp_micros": 1790088100250000,
        "events": [
            {
                "name": "phone_call",
                "params": {
                    "session_id": "1790184088",
                    "engagement_time_msec": 1,
                    "transaction_id": "rt-ga4-3-call-123-conversion",
                    "call_id": "123",
                    "call_status": "answered",
                    "call_duration_sec": 95,
                    "value": 50.0,
                    "currency": "UAH",
                },
            }
        ],
    }
    assert payload["timestamp_micros"] == int(CALL_AT.timestamp()) * 1_000_000 + 250000


def test_the_dedupe_key_is_the_transaction_id_and_stable_across_tries() -> None:
    first = prepared()
    again = DESTINATION.prepare(facts(), conversion(), config(), NOW + timedelta(hours=5))
    assert isinstance(again, Prepared)
    assert first.dedupe_key == again.dedupe_key == "rt-ga4-3-call-123-conversion"
    assert first.payload["events"][0]["params"]["transaction_id"] == first.dedupe_key
    other = DESTINATION.prepare(facts(subject_id=124), conversion(), config(), NOW)
    assert isinstance(other, Prepared) and other.dedupe_key != first.dedupe_key


def test_a_bare_ga_cookie_value_gives_the_client_id() -> None:
    payload = prepared(visit=visit(ga_client_id="GA1.1.1987535338.1790184089")).payload
    assert payload["client_id"] == "1987535338.1790184089"


def test_no_visit_or_no_ga_cookie_is_skipped_in_words() -> None:
    assert skipped(facts(visit=None)).words == (
        "no GA client id: the call was not matched to a website visit"
    )
    no_cookie = skipped(facts(visit=visit(ga_client_id=None)))
    assert (no_cookie.code, no_cookie.words) == (
        "no_ga_client_id",
        "no GA client id: the visit had no _ga cookie",
    )
    assert skipped(facts(visit=visit(ga_client_id="not-a-cookie"))).code == "bad_ga_client_id"


def test_a_call_within_72_hours_is_sent_and_an_older_one_explained() -> None:
    limit = CALL_AT + timedelta(hours=72)
    assert isinstance(DESTINATION.prepare(facts(), conversion(), config(), limit), Prepared)
    late = skipped(facts(), now=limit + timedelta(seconds=1))
    assert late.code == "too_old_for_ga4"
    assert late.words == (
        "the call is 72 hours old; GA4 takes events back-dated by at most 72 hours"
    )


def test_a_call_stamped_after_now_is_sent_at_now() -> None:
    found = DESTINATION.prepare(
        facts(occurred_at=NOW + timedelta(seconds=2)), conversion(), config(), NOW
    )
    assert isinstance(found, Prepared)
    assert found.payload["timestamp_micros"] == int(NOW.timestamp() * 1_000_000)


def test_no_session_cookie_sends_the_event_without_a_session_id() -> None:
    params = prepared(visit=visit(ga_session_id=None)).payload["events"][0]["params"]
    assert "session_id" not in params
    assert params["engagement_time_msec"] == 1


def test_no_value_sends_neither_value_nor_currency() -> None:
    found = DESTINATION.prepare(facts(), conversion(value=None), config(), NOW)
    assert isinstance(found, Prepared)
    params = found.payload["events"][0]["params"]
    assert "value" not in params and "currency" not in params


def test_a_lead_carries_its_id_and_kind() -> None:
    found = DESTINATION.prepare(
        facts(
            subject_kind="lead",
            subject_id=9,
            lead_kind="form",
            status=None,
            talk_seconds=None,
            duration_seconds=None,
        ),
        conversion(name="lead", event="lead.created"),
        config(),
        NOW,
    )
    assert isinstance(found, Prepared)
    event = found.payload["events"][0]
    assert event["name"] == "lead"
    assert event["params"]["lead_id"] == "9"
    assert event["params"]["lead_kind"] == "form"
    assert "call_id" not in event["params"]


def test_consent_signals_go_as_ga4_consent() -> None:
    payload = prepared(
        consent={"ad_user_data": True, "ad_personalization": False, "ad_storage": True}
    ).payload
    assert payload["consent"] == {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}
    assert "consent" not in prepared().payload


def test_the_configured_event_name_wins_over_the_conversion_name() -> None:
    found = DESTINATION.prepare(
        facts(), conversion(name="Target call"), config(event_name="generate_lead"), NOW
    )
    assert isinstance(found, Prepared)
    assert found.payload["events"][0]["name"] == "generate_lead"


def test_a_conversion_name_ga4_refuses_is_skipped_with_the_fix() -> None:
    found = skipped(facts(), conversion(name="Target call"))
    assert found.code == "invalid_for_ga4"
    assert '"Target call" may hold only letters, digits and underscores' in found.words
    assert "set a GA4 event name such as phone_call" in found.words
    reserved = skipped(facts(), conversion(name="session_start"))
    assert "GA4 keeps for its own events" in reserved.words


def test_the_settings_refuse_a_stream_id_and_a_bad_event_name() -> None:
    assert config(measurement_id=" g-abc123xyz ").measurement_id == "G-ABC123XYZ"
    with pytest.raises(ValidationError, match="measurement id"):
        config(measurement_id="1234567890")
    with pytest.raises(ValidationError, match="starts with"):
        config(event_name="google_call")
    with pytest.raises(ValidationError, match="http"):
        config(api_base_url="ftp://example.com")
    assert config(event_name="").event_name is None


def test_every_prepared_payload_passes_the_local_rules() -> None:
    assert check_payload(prepared().payload, int(NOW.timestamp() * 1_000_000)) == []


def test_send_posts_the_body_with_the_stream_and_secret(
    stub: Ga4Stub, client: httpx.Client
) -> None:
    the_config = config(api_base_url=stub.base_url)
    the_prepared = prepared()
    result = DESTINATION.send(client, the_config, the_prepared)
    assert result.outcome == "accepted"
    assert result.status_code == 204
    [hit] = stub.hits
    assert hit.path == "/mp/collect"
    assert hit.query == {"measurement_id": "G-ABC123XYZ", "api_secret": SECRET}
    assert hit.body == the_prepared.payload


def test_a_server_error_is_retried_and_a_refusal_is_not(
    stub: Ga4Stub, client: httpx.Client
) -> None:
    the_config = config(api_base_url=stub.base_url)
    stub.fail_next = 503
    down = DESTINATION.send(client, the_config, prepared())
    assert (down.outcome, down.status_code) == ("retry", 503)
    assert down.reason == "GA4 had a server error (HTTP 503); trying again later"
    stub.fail_next = 403
    refused = DESTINATION.send(client, the_config, prepared())
    assert (refused.outcome, refused.status_code) == ("rejected", 403)
    assert "check both in the destination's settings" in refused.reason
    stub.fail_next = 400
    assert DESTINATION.send(client, the_config, prepared()).outcome == "rejected"
    stub.fail_next = 429
    assert DESTINATION.send(client, the_config, prepared()).outcome == "retry"


def test_an_unreachable_endpoint_is_retried(client: httpx.Client) -> None:
    result = DESTINATION.send(client, config(api_base_url="http://127.0.0.1:9"), prepared())
    assert result.outcome == "retry"
    assert result.reason.startswith("could not reach GA4")


def test_validate_asks_the_debug_endpoint(stub: Ga4Stub, client: httpx.Client) -> None:
    the_config = config(api_base_url=stub.base_url)
    clean = DESTINATION.validate(client, the_config, prepared())
    assert clean.outcome == "accepted"
    assert clean.response == {"status": 200, "validationMessages": []}
    assert stub.hits[-1].path == "/debug/mp/collect"
    assert stub.hits[-1].query["api_secret"] == SECRET


def test_validate_turns_the_debug_messages_into_words(stub: Ga4Stub, client: httpx.Client) -> None:
    bad = prepared()
    bad = replace(bad, payload={**bad.payload, "events": [{"name": "1st call", "params": {}}]})
    result = DESTINATION.validate(client, config(api_base_url=stub.base_url), bad)
    assert result.outcome == "rejected"
    assert result.reason.startswith(
        "GA4 would drop this event: a name GA4 does not allow at events: "
    )
    assert result.response["validationMessages"][0]["validationCode"] == "NAME_INVALID"


def test_the_live_endpoint_takes_garbage_which_is_why_it_is_checked_first(
    stub: Ga4Stub, client: httpx.Client
) -> None:
    garbage = Prepared(payload={"events": [{"name": "session_start"}]}, dedupe_key="x")
    assert (
        DESTINATION.send(client, config(api_base_url=stub.base_url), garbage).outcome == "accepted"
    )
    assert check_payload(garbage.payload) != []


def test_the_log_shows_no_secret() -> None:
    payload = {**prepared().payload, "oops": f"https://x/?api_secret={SECRET}"}
    masked = DESTINATION.masked(payload, config())
    assert masked["oops"] == "••••"
    assert masked["client_id"] == "1987535338.1790184089"
    assert payload["oops"].endswith(SECRET)  # the original is untouched


def test_with_several_streams_the_session_of_this_stream_is_sent() -> None:
    ids = {"OTHER999": "1790000000", "ABC123XYZ": "1790184088"}
    params = prepared(extra={"ga_session_ids": ids}).payload["events"][0]["params"]
    assert params["session_id"] == "1790184088"
    only_other = prepared(extra={"ga_session_ids": {"OTHER999": "1790000000"}})
    assert "session_id" not in only_other.payload["events"][0]["params"]


def test_a_short_secret_does_not_blank_the_log() -> None:
    masked = DESTINATION.masked(prepared().payload, config(api_secret="s"))
    assert masked["events"][0]["params"]["call_status"] == "answered"


def test_the_validate_button_path_runs_the_sample_through_the_debug_endpoint(
    stub: Ga4Stub,
) -> None:
    project = Project(id=1, timezone="Europe/Kyiv", currency="UAH", default_country="UA")
    sample = sample_facts(project, NOW)
    outcome = run_check(
        DESTINATION,
        config(api_base_url=stub.base_url),
        sample,
        sample_conversion(DESTINATION, ConversionRule(), sample),
        NOW,
        validate=True,
    )
    assert outcome.outcome == "accepted", outcome.reason
    assert stub.hits[-1].path == "/debug/mp/collect"


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(max_size=50),
    status=st.none() | st.text(max_size=150),
    value=st.none() | st.decimals(min_value=0, max_value=10**9, places=2),
    talk=st.none() | st.integers(min_value=0, max_value=10**6),
    age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=80)),
)
def test_whatever_ga4_gets_sent_its_debug_server_would_pass(
    name: str, status: str | None, value: Decimal | None, talk: int | None, age: timedelta
) -> None:
    found = DESTINATION.prepare(
        facts(status=status, talk_seconds=talk, occurred_at=NOW - age),
        conversion(name=name, value=value),
        config(),
        NOW,
    )
    if isinstance(found, Prepared):
        assert debug_messages(found.payload) == []
    else:
        assert found.words
