"""Test helper: a destination kind of our own, registered for one test, so the integrations
API, pages and CLI are tested without any real destination's wire format.

`fake` records what it was asked to send; its `account` decides the answer: "refuse" is a 4xx
refusal in words, "down" a 5xx to retry, anything else is accepted. `fake_plain` is the same
without a `validate` step.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar, Literal

import httpx
import pytest
from pydantic import BaseModel, Field

from ringtrail.integrations import registry
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)

SENT: list[dict[str, Any]] = []


class FakeConfig(BaseModel):
    account: str = Field(min_length=1, max_length=40, description="The account to send to.")
    api_secret: str = Field(min_length=8, description="The account's API secret.")
    mode: Literal["live", "debug"] = "live"
    batch_size: int = Field(default=10, ge=1, le=100)
    hash_phones: bool = True


class PlainDestination:
    kind: ClassVar[str] = "fake_plain"
    label: ClassVar[str] = "Plain CRM"
    config_model: ClassVar[type[BaseModel]] = FakeConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_secret"})
    on_change: ClassVar[OnChange] = "restatement"

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        if facts.visit is None or facts.visit.gclid is None:
            return Skip("no_click_id", "no gclid: the visit came from organic search")
        payload = {
            "click": facts.visit.gclid,
            "phone": facts.phone_e164,
            "name": conversion.name,
            "value": str(conversion.value) if conversion.value is not None else None,
            "at": facts.occurred_at.isoformat(),
        }
        return Prepared(payload=payload, dedupe_key=f"{facts.subject_kind}-{facts.subject_id}")

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        assert isinstance(config, FakeConfig)
        SENT.append(prepared.payload)
        if config.account == "refuse":
            return SendResult("rejected", 400, {"error": "bad click"}, "the click id is unknown")
        if config.account == "down":
            return SendResult("retry", 503, {}, "the service is down", 60)
        return SendResult("accepted", 200, {"ok": True})

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        return {**payload, "phone": "***"} if payload.get("phone") else dict(payload)


class FakeDestination(PlainDestination):
    kind: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake ads"

    def validate(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        if prepared.payload.get("value") is None:
            return SendResult("rejected", 200, {"messages": ["value missing"]}, "value missing")
        return SendResult("accepted", 200, {"messages": []})


DESTINATION = FakeDestination()


@pytest.fixture
def fake_kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """`fake` and `fake_plain` registered for this test; the list of what was sent."""
    monkeypatch.setitem(registry.KINDS, "fake", __name__)
    plain = types.ModuleType(f"{__name__}_plain")
    plain.DESTINATION = PlainDestination()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, plain.__name__, plain)
    monkeypatch.setitem(registry.KINDS, "fake_plain", plain.__name__)
    registry.destination.cache_clear()
    SENT.clear()
    yield SENT
    registry.destination.cache_clear()
