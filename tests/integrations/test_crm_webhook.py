"""Signed CRM webhooks against a local receiver that verifies with Ringtrail's inbound
verifier: the body, the headers, rotation, and what each answer means."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ringtrail.integrations import registry
from ringtrail.integrations.base import Prepared, Skip
from ringtrail.integrations.crm_webhook import (
    CrmWebhookConfig,
    CrmWebhookDestination,
    rotate,
    sample_conversion,
    sample_facts,
    signing_secrets,
)
from tests.integrations.crm_facts import RECORDING, STARTED, call_facts, event
from tests.integrations.webhook_receiver import WebhookReceiver

SECRET = "a-long-enough-secret-1"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    running = WebhookReceiver([SECRET]).start()
    yield running
    running.stop()


def prepared(name: str = "call.ended", sequence: int = 1, **changes: object) -> Prepared:
    found = CrmWebhookDestination().prepare(
        call_facts(**changes), event(name, sequence), config("https://crm.example/h"), STARTED
    )
    assert isinstance(found, Prepared)
    return found


def config(url: str) -> CrmWebhookConfig:
    return CrmWebhookConfig(url=url, secret=SECRET)


def test_the_registry_finds_it_and_it_names_its_events() -> None:
    found = registry.destination("crm_webhook")
    assert found.kind == "crm_webhook"
    # The delivery service reads the families ("call", "lead"); the events are named too.
    assert {"call", "lead", "call.updated"} <= found.events  # type: ignore[attr-defined]
    assert "conversion" not in found.events  # type: ignore[attr-defined]


def test_call_ended_body_carries_source_utm_landing_ids_and_recording() -> None:
    body = prepared().payload
    assert body["event"] == "call.ended"
    assert body["sequence"] == 1
    assert body["delivery_id"] == "rt-7-call-41-call.ended"
    assert body["subject"] == {"kind": "call", "id": 41}
    assert body["caller"]["phone"] == "+380501234567"
    assert body["source"]["source"] == "google"
    assert body["source"]["landing_page"] == "https://shop.example/sale"
    assert body["source"]["utm"]["utm_campaign"] == "spring"
    assert body["analytics_ids"] == {
        "gclid": "Cj0-gclid",
        "ga_client_id": "111.222",
        "ym_uid": "1700000000123",
    }
    assert body["recording_url"] == RECORDING
    assert body["call"]["talk_seconds"] == 95


def test_call_started_says_nothing_of_the_end_yet() -> None:
    body = prepared("call.started", 0).payload
    assert body["call"]["answered"] is None and body["recording_url"] is None


def test_call_updated_says_what_changed() -> None:
    body = prepared("call.updated.2", 4, extra={"changed": ["tags", "recording"]}).payload
    assert body["event"] == "call.updated"
    assert body["changed"] == ["recording", "tags"]
    assert body["delivery_id"] == "rt-7-call-41-call.updated.2"


def test_call_updated_works_out_what_changed_since_the_last_answer(
    receiver: WebhookReceiver,
) -> None:
    destination = CrmWebhookDestination()
    with httpx.Client() as client:
        ended = destination.send(client, config(receiver.url), prepared(recording_url=None))
    assert ended.response["sent"]["recording"] is False
    earlier = {"call.started": {"status": 200}, "call.ended": ended.response}
    later = call_facts(tags=("price",), extra={"previous_responses": earlier})
    update = destination.prepare(later, event("call.updated.1", 2), config(receiver.url), STARTED)
    assert isinstance(update, Prepared)
    assert update.payload["changed"] == ["recording", "tags"]
    same = call_facts(recording_url=None, extra={"previous_responses": earlier})
    nothing = destination.prepare(same, event("call.updated.1", 2), config(receiver.url), STARTED)
    assert isinstance(nothing, Skip) and nothing.code == "nothing_changed"


def test_receiver_verifies_the_signature_with_the_inbound_verifier(
    receiver: WebhookReceiver,
) -> None:
    destination = CrmWebhookDestination()
    with httpx.Client() as client:
        result = destination.send(client, config(receiver.url), prepared())
    assert result.outcome == "accepted", result.reason
    got = receiver.received[0]
    assert got.verdict == "ok"
    assert got.headers["x-ringtrail-event"] == "call.ended"
    assert got.headers["x-ringtrail-delivery"] == "rt-7-call-41-call.ended"
    assert got.json["recording_url"] == RECORDING


def test_a_wrong_secret_is_refused_and_explained(receiver: WebhookReceiver) -> None:
    wrong = CrmWebhookConfig(url=receiver.url, secret="not-the-receivers-secret")
    with httpx.Client() as client:
        result = CrmWebhookDestination().send(client, wrong, prepared())
    assert result.outcome == "rejected"
    assert "signing secret" in result.reason
    assert receiver.received[0].verdict == "signature does not match"


def test_rotation_signs_with_both_secrets_until_the_grace_ends(receiver: WebhookReceiver) -> None:
    now = datetime.now(UTC)
    rotated = rotate(config(receiver.url), now, grace_hours=24)
    assert rotated.secret != SECRET and rotated.previous_secret == SECRET
    # The receiver still knows only the old secret: the second signature passes.
    with httpx.Client() as client:
        during = CrmWebhookDestination(lambda: now).send(client, rotated, prepared())
        assert during.outcome == "accepted"
        assert receiver.received[-1].headers["x-ringtrail-signature"].count("v1=") == 2
        # The receiver switched to the new secret: still accepted, by the first signature.
        receiver.secrets[:] = [rotated.secret]
        assert CrmWebhookDestination(lambda: now).send(client, rotated, prepared()).outcome == (
            "accepted"
        )
    assert signing_secrets(rotated, now + timedelta(hours=25)) == [rotated.secret]


@pytest.mark.parametrize(
    ("status", "outcome", "words"),
    [
        (201, "accepted", ""),
        (410, "rejected", "gone"),
        (422, "rejected", "HTTP 422"),
        (429, "retry", "HTTP 429"),
        (500, "retry", "HTTP 500"),
        (503, "retry", "HTTP 503"),
    ],
)
def test_answers_map_to_outcomes(
    receiver: WebhookReceiver, status: int, outcome: str, words: str
) -> None:
    receiver.answers.append(status)
    with httpx.Client() as client:
        result = CrmWebhookDestination().send(client, config(receiver.url), prepared())
    assert (result.outcome, result.status_code) == (outcome, status)
    assert words in result.reason


def test_an_unreachable_receiver_is_retried() -> None:
    with httpx.Client() as client:
        result = CrmWebhookDestination().send(
            client, config("http://127.0.0.1:9/nothing"), prepared()
        )
    assert result.outcome == "retry" and "could not reach" in result.reason


def test_a_timeout_is_retried() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with httpx.Client(transport=httpx.MockTransport(slow)) as client:
        result = CrmWebhookDestination().send(client, config("https://crm.example/h"), prepared())
    assert result.outcome == "retry" and "did not answer" in result.reason


def test_one_lead_per_person_skips_a_lead_while_another_is_open() -> None:
    facts = call_facts(
        subject_kind="lead",
        subject_id=9,
        lead_kind="form",
        extra={"open_contact": {"kind": "lead", "id": 5}},
    )
    found = CrmWebhookDestination().prepare(
        facts, event("lead.created"), config("https://crm.example/h"), STARTED
    )
    assert found == Skip("open_lead_exists", "caller already has an open lead (#5)")
    alone = call_facts(subject_kind="lead", subject_id=9, lead_kind="form", extra={})
    sent = CrmWebhookDestination().prepare(
        alone, event("lead.created"), config("https://crm.example/h"), STARTED
    )
    assert isinstance(sent, Prepared) and sent.payload["lead"]["kind"] == "form"


def test_the_log_masks_the_caller_and_the_recording_token() -> None:
    shown = CrmWebhookDestination().masked(prepared().payload, config("https://crm.example/h"))
    assert shown["caller"]["phone"] == "+38050*****67"
    assert "sig" not in shown["recording_url"]
    assert shown["analytics_ids"]["gclid"] == "Cj0-gclid"


def test_plain_http_is_refused_except_locally() -> None:
    with pytest.raises(ValueError, match="https"):
        config("http://crm.example/hook")
    assert config("http://127.0.0.1:8000/hook").url.startswith("http://127.0.0.1")


def test_the_sample_goes_out_like_a_real_call(receiver: WebhookReceiver) -> None:
    now = datetime.now(UTC)
    destination = CrmWebhookDestination()
    sample = destination.prepare(
        sample_facts(7, now, currency="UAH"),
        sample_conversion(),
        config(receiver.url),
        now,
    )
    assert isinstance(sample, Prepared)
    with httpx.Client() as client:
        assert destination.send(client, config(receiver.url), sample).outcome == "accepted"
    assert receiver.received[0].json["subject"] == {"kind": "call", "id": 0}
