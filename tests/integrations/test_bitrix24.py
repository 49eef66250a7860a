"""Bitrix24 out, against a local server speaking its REST format: the lead with source, UTM,
landing page and recording link; the call registered and finished in telephony; one lead
per phone; later changes; OAuth renewal; errors in words."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from ringtrail.integrations import registry
from ringtrail.integrations.base import ConversionFacts, Prepared, SendResult, Skip
from ringtrail.integrations.bitrix24 import Bitrix24Config, Bitrix24Destination
from tests.integrations.bitrix24_stub import Bitrix24Stub
from tests.integrations.crm_facts import RECORDING, STARTED, call_facts, event


@pytest.fixture
def stub() -> Iterator[Bitrix24Stub]:
    running = Bitrix24Stub().start()
    yield running
    running.stop()


def webhook(stub: Bitrix24Stub, **changes: Any) -> Bitrix24Config:
    return Bitrix24Config(connection="webhook", webhook_url=stub.webhook_url, **changes)


def app(stub: Bitrix24Stub, **changes: Any) -> Bitrix24Config:
    return Bitrix24Config(
        connection="oauth",
        client_endpoint=stub.client_endpoint,
        client_id=stub.client_id,
        client_secret=stub.client_secret,
        access_token=stub.access_token,
        refresh_token=stub.refresh_token,
        oauth_server=stub.base_url,
        **changes,
    )


def deliver(
    destination: Bitrix24Destination,
    config: Bitrix24Config,
    facts: ConversionFacts,
    name: str,
    sequence: int = 0,
) -> SendResult:
    prepared = destination.prepare(facts, event(name, sequence), config, STARTED)
    assert isinstance(prepared, Prepared), prepared
    with httpx.Client() as client:
        return destination.send(client, config, prepared)


def test_the_registry_finds_it() -> None:
    assert registry.destination("bitrix24").kind == "bitrix24"


def test_a_call_creates_a_lead_with_source_utm_landing_and_recording(stub: Bitrix24Stub) -> None:
    result = deliver(Bitrix24Destination(), webhook(stub), call_facts(), "call.ended", 1)
    assert result.outcome == "accepted", result.reason
    assert stub.methods() == ["crm.duplicate.findbycomm", "crm.lead.add"]
    (lead,) = stub.leads.values()
    assert lead["SOURCE_ID"] == "CALL"
    assert lead["SOURCE_DESCRIPTION"].startswith("Ringtrail: google / cpc / spring")
    assert "https://shop.example/sale" in lead["SOURCE_DESCRIPTION"]
    assert (lead["UTM_SOURCE"], lead["UTM_MEDIUM"], lead["UTM_CAMPAIGN"]) == (
        "google",
        "cpc",
        "spring",
    )
    assert lead["PHONE"] == [{"VALUE": "+380501234567", "VALUE_TYPE": "WORK"}]
    assert f"Recording: {RECORDING}" in lead["COMMENTS"]
    assert "gclid=Cj0-gclid" in lead["COMMENTS"]
    assert (lead["ORIGINATOR_ID"], lead["ORIGIN_ID"]) == ("ringtrail", "call:41")
    assert result.response["entity_type"] == "LEAD"
    assert result.response["entity_id"] == int(lead["ID"])
    assert result.response["entity_created"] is True


def test_a_webhook_connection_skips_telephony_which_bitrix24_refuses_it(
    stub: Bitrix24Stub,
) -> None:
    deliver(Bitrix24Destination(), webhook(stub), call_facts(), "call.ended", 1)
    assert not [m for m in stub.methods() if m.startswith("telephony")]


def test_an_app_registers_finishes_and_attaches_the_record(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    config = app(stub)
    started = deliver(destination, config, call_facts(), "call.started", 0)
    assert started.outcome == "accepted", started.reason
    assert stub.methods() == [
        "crm.duplicate.findbycomm",
        "crm.lead.add",
        "telephony.externalcall.register",
    ]
    lead_id = started.response["entity_id"]
    (external,) = stub.external_calls.values()
    register = external["register"]
    assert register["CRM_ENTITY_TYPE"] == "LEAD" and register["CRM_ENTITY_ID"] == lead_id
    assert register["PHONE_NUMBER"] == "+380501234567" and register["TYPE"] == 2
    assert register["EXTERNAL_CALL_ID"] == "ringtrail-7-41"
    assert register["CALL_START_DATE"] == "2026-03-02T10:15:00+00:00"

    # call.ended reuses the lead and the telephony call it got back: no second lead.
    ended_facts = call_facts(extra={"previous_responses": [started.response]})
    stub.calls.clear()
    ended = deliver(destination, config, ended_facts, "call.ended", 1)
    assert ended.outcome == "accepted", ended.reason
    assert stub.methods() == [
        "crm.lead.update",
        "telephony.externalcall.finish",
        "telephony.externalcall.attachrecord",
    ]
    assert len(stub.leads) == 1
    assert external["finish"]["DURATION"] == 95 and external["finish"]["STATUS_CODE"] == "200"
    assert external["record"]["RECORD_URL"] == RECORDING
    assert stub.leads[lead_id]["COMMENTS"].count("Recording:") == 1


def test_call_updated_rewrites_our_leads_comments(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    first = deliver(destination, webhook(stub), call_facts(recording_url=None), "call.ended", 1)
    lead_id = first.response["entity_id"]
    assert "Recording" not in stub.leads[lead_id]["COMMENTS"]
    later = call_facts(
        tags=("price",),
        is_target=True,
        extra={"previous_responses": {"call.ended": first.response}, "changed": ["recording"]},
    )
    result = deliver(destination, webhook(stub), later, "call.updated.0", 2)
    assert result.outcome == "accepted"
    comments = stub.leads[lead_id]["COMMENTS"]
    assert f"Recording: {RECORDING}" in comments and "Tags: price" in comments
    assert "Target: yes" in comments


def test_a_caller_with_an_open_lead_gets_no_second_one(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    first = deliver(destination, webhook(stub), call_facts(), "call.ended", 1)
    again = call_facts(subject_id=42)
    second = deliver(destination, webhook(stub), again, "call.ended", 1)
    assert second.response["entity_id"] == first.response["entity_id"]
    assert second.response["entity_created"] is False
    assert len(stub.leads) == 1
    # A lead Ringtrail did not create is not rewritten: the new call is a timeline comment.
    assert stub.comments[-1]["ENTITY_TYPE"] == "lead"
    assert "Call #42" in stub.comments[-1]["COMMENT"]


def test_a_closed_lead_does_not_stop_a_new_one(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    first = deliver(destination, webhook(stub), call_facts(), "call.ended", 1)
    stub.leads[first.response["entity_id"]].update(STATUS_ID="JUNK", STATUS_SEMANTIC_ID="F")
    deliver(destination, webhook(stub), call_facts(subject_id=42), "call.ended", 1)
    assert len(stub.leads) == 2


def test_deal_mode_makes_a_contact_and_a_deal_then_reuses_the_open_deal(
    stub: Bitrix24Stub,
) -> None:
    destination = Bitrix24Destination()
    config = webhook(stub, create="deal")
    first = deliver(destination, config, call_facts(), "call.ended", 1)
    assert first.outcome == "accepted", first.reason
    (contact,) = stub.contacts.values()
    (deal,) = stub.deals.values()
    assert deal["CONTACT_ID"] == int(contact["ID"]) and deal["ORIGIN_ID"] == "call:41"
    assert deal["UTM_CAMPAIGN"] == "spring" and deal["CURRENCY_ID"] == "UAH"
    second = deliver(destination, config, call_facts(subject_id=42), "call.ended", 1)
    assert second.response["entity_type"] == "DEAL"
    assert second.response["entity_id"] == int(deal["ID"])
    assert len(stub.deals) == 1


def test_a_form_lead_goes_as_a_web_form_and_a_calls_lead_waits_for_the_call(
    stub: Bitrix24Stub,
) -> None:
    destination = Bitrix24Destination()
    form = call_facts(subject_kind="lead", subject_id=9, lead_kind="form", recording_url=None)
    assert deliver(destination, webhook(stub), form, "lead.created").outcome == "accepted"
    (lead,) = stub.leads.values()
    assert lead["SOURCE_ID"] == "WEBFORM" and lead["ORIGIN_ID"] == "lead:9"
    call_lead = call_facts(subject_kind="lead", subject_id=10, lead_kind="call")
    skipped = destination.prepare(call_lead, event("lead.created"), webhook(stub), STARTED)
    assert isinstance(skipped, Skip) and skipped.code == "call_lead"


def test_a_hidden_number_is_skipped_in_words(stub: Bitrix24Stub) -> None:
    skipped = Bitrix24Destination().prepare(
        call_facts(phone_e164=None), event("call.ended", 1), webhook(stub), STARTED
    )
    assert isinstance(skipped, Skip) and "number is hidden" in skipped.words


def test_rate_limit_is_retried_and_the_retry_creates_no_duplicate(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    config = app(stub)
    prepared = destination.prepare(call_facts(), event("call.started"), config, STARTED)
    assert isinstance(prepared, Prepared)
    # The lead is added, then telephony hits the portal's request limit.
    stub.fail_method["telephony.externalcall.register"] = (503, "QUERY_LIMIT_EXCEEDED")
    with httpx.Client() as client:
        first = destination.send(client, config, prepared)
        assert (first.outcome, first.status_code) == ("retry", 503)
        assert "request limit" in first.reason
        second = destination.send(client, config, prepared)
    assert second.outcome == "accepted", second.reason
    assert len(stub.leads) == 1 and len(stub.external_calls) == 1


@pytest.mark.parametrize(
    ("status", "code", "outcome", "words"),
    [
        (503, "QUERY_LIMIT_EXCEEDED", "retry", "request limit"),
        (429, "OPERATION_TIME_LIMIT", "retry", "time limit"),
        (500, "INTERNAL_SERVER_ERROR", "retry", "again later"),
        (403, "insufficient_scope", "rejected", "permission"),
        (403, "ACCESS_DENIED", "rejected", "commercial plan"),
        (400, "ERROR_CORE", "rejected", "ERROR_CORE"),
    ],
)
def test_errors_map_to_outcomes_in_words(
    stub: Bitrix24Stub, status: int, code: str, outcome: str, words: str
) -> None:
    stub.fail_next = [(status, code)]
    result = deliver(Bitrix24Destination(), webhook(stub), call_facts(), "call.ended", 1)
    assert (result.outcome, result.status_code) == (outcome, status)
    assert words in result.reason


def test_a_wrong_webhook_code_is_rejected_in_words(stub: Bitrix24Stub) -> None:
    config = Bitrix24Config(webhook_url=stub.webhook_url.replace(stub.webhook_code, "nope"))
    result = deliver(Bitrix24Destination(), config, call_facts(), "call.ended", 1)
    assert (result.outcome, result.status_code) == ("rejected", 401)
    assert "connect Bitrix24 again" in result.reason


def test_an_expired_app_token_is_renewed_once_and_kept(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    config = app(stub)
    stub.access_token, stub.refresh_token = "access-5", "refresh-1"  # the portal moved on
    result = deliver(destination, config, call_facts(), "call.started", 0)
    assert result.outcome == "accepted", result.reason
    assert stub.methods().count("oauth.token") == 1
    assert stub.access_token == "access-6"
    # The renewed pair is kept: the next delivery needs no renewal.
    stub.calls.clear()
    deliver(destination, config, call_facts(subject_id=50), "call.started", 0)
    assert "oauth.token" not in stub.methods()


def test_a_refused_renewal_is_rejected_in_words(stub: Bitrix24Stub) -> None:
    config = app(stub)
    stub.access_token, stub.refresh_token = "access-5", "refresh-9"
    result = deliver(Bitrix24Destination(), config, call_facts(), "call.started", 0)
    assert result.outcome == "rejected"
    assert "renew" in result.reason


def test_config_checks_the_connection() -> None:
    with pytest.raises(ValidationError, match="rest/<user>/<code>"):
        Bitrix24Config(webhook_url="https://acme.bitrix24.ua/crm/")
    with pytest.raises(ValidationError, match="client_secret"):
        Bitrix24Config(
            connection="oauth",
            client_endpoint="https://acme.bitrix24.ua/rest/",
            client_id="x",
            access_token="a",
            refresh_token="r",
        )


def test_the_log_masks_phone_name_and_recording_token(stub: Bitrix24Stub) -> None:
    destination = Bitrix24Destination()
    config = app(stub)
    prepared = destination.prepare(
        call_facts(name="Olena"), event("call.ended", 1), config, STARTED
    )
    assert isinstance(prepared, Prepared)
    shown = str(destination.masked(prepared.payload, config))
    assert "+380501234567" not in shown and "Olena" not in shown
    assert "abc.def.sig" not in shown
    assert "+38050*****67" in shown
