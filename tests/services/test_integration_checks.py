"""Trying a destination: the sample call passes the destination's rule, its answer comes back
in words, and a destination that cannot be reached says so instead of failing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from pydantic import BaseModel

from ringtrail.domain.conversion_rules import ConversionRule
from ringtrail.integrations.base import Prepared, SendResult, Skip
from ringtrail.services.integration_checks import (
    can_validate,
    run_check,
    sample_conversion,
    sample_event,
    sample_facts,
)
from ringtrail.storage.models import Project
from tests.integration_fakes import SENT, FakeConfig, FakeDestination, PlainDestination

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PROJECT = Project(id=7, name="x", timezone="Europe/Kyiv", currency="UAH", default_country="UA")
CONFIG = FakeConfig(account="acme", api_secret="s3cret-key")


def test_the_sample_carries_what_the_rule_asks_for() -> None:
    rule = ConversionRule(
        target_only=True,
        first_time_only=True,
        min_talk_seconds=60,
        required_tags=("sale",),
        value_mode="tags",
        tag_values={"vip": Decimal("700")},
    )
    facts = sample_facts(PROJECT, NOW, rule)
    assert facts.visit is not None and facts.visit.gclid is not None
    assert facts.visit.gclid.startswith("TEST-GCLID-") and facts.subject_id == 0
    assert {"sale", "vip"} <= set(facts.tags) and facts.occurred_at < NOW
    conversion = sample_conversion(FakeDestination(), rule, facts)
    assert not isinstance(conversion, Skip) and conversion.value == Decimal("700")


def test_a_destination_sends_a_conversion_and_a_crm_a_call_end() -> None:
    assert sample_event(FakeDestination()) == "conversion"
    crm = type("Crm", (PlainDestination,), {"events": frozenset({"call", "lead"})})()
    assert sample_event(crm) == "call.ended"
    assert can_validate(FakeDestination()) and not can_validate(PlainDestination())


def test_the_answer_comes_back_in_words_and_the_payload_masked() -> None:
    facts = sample_facts(PROJECT, NOW)
    conversion = sample_conversion(FakeDestination(), ConversionRule(), facts)
    SENT.clear()
    sent = run_check(FakeDestination(), CONFIG, facts, conversion, NOW)
    assert sent.ok and sent.payload["phone"] == "***" and SENT[0]["phone"] == "+380501234567"
    refused = run_check(
        FakeDestination(), FakeConfig(account="refuse", api_secret="s3cret-key"), facts,
        conversion, NOW,
    )  # fmt: skip
    assert (refused.outcome, refused.reason) == ("rejected", "the click id is unknown")
    checked = run_check(FakeDestination(), CONFIG, facts, conversion, NOW, validate=True)
    assert (checked.outcome, checked.messages) == ("rejected", ["value missing"])


def test_a_skip_is_said_and_nothing_sent() -> None:
    SENT.clear()
    skipped = run_check(FakeDestination(), CONFIG, sample_facts(PROJECT, NOW),
                        Skip("consent_not_given", "consent not given"), NOW)  # fmt: skip
    assert (skipped.outcome, skipped.reason) == ("skipped", "consent not given") and SENT == []


class Unreachable(FakeDestination):
    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        client.post("http://127.0.0.1:9/collect", json=prepared.payload)
        return SendResult("accepted", 200, {})


def test_a_destination_that_cannot_be_reached_is_a_retry_in_words() -> None:
    facts = sample_facts(PROJECT, NOW)
    conversion = sample_conversion(FakeDestination(), ConversionRule(), facts)
    found = run_check(
        Unreachable(), CONFIG, facts, conversion, NOW,
        client_factory=lambda: httpx.Client(timeout=2.0),
    )  # fmt: skip
    assert found.outcome == "retry" and "could not reach the destination" in found.reason
    assert found.payload["phone"] == "***"
