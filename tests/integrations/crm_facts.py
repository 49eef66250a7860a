"""Test helper: the facts of one call or lead as the delivery service hands them over."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ringtrail.integrations.base import Conversion, ConversionFacts, VisitFacts

STARTED = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
RECORDING = "https://rt.example/recordings/abc.def.sig"


def call_facts(**changes: Any) -> ConversionFacts:
    visit = VisitFacts(
        started_at=STARTED,
        landing_url="https://shop.example/sale?utm_source=google&utm_medium=cpc",
        source="google",
        medium="cpc",
        campaign="spring",
        utm={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring"},
        gclid="Cj0-gclid",
        ga_client_id="111.222",
        ym_uid="1700000000123",
    )
    values: dict[str, Any] = {
        "project_id": 7,
        "project_time_zone": "Europe/Kyiv",
        "currency": "UAH",
        "default_country": "UA",
        "subject_kind": "call",
        "subject_id": 41,
        "occurred_at": STARTED,
        "phone_e164": "+380501234567",
        "answered": True,
        "talk_seconds": 95,
        "duration_seconds": 110,
        "status": "answered",
        "is_first_time": True,
        "source": "google",
        "medium": "cpc",
        "campaign": "spring",
        "landing_page": "https://shop.example/sale",
        "recording_url": RECORDING,
        "lead_kind": "call",
        "visit": visit,
        "extra": {"tracking_number": "+380441110000"},
    }
    values.update(changes)
    return ConversionFacts(**values)


def event(name: str, sequence: int = 0) -> Conversion:
    return Conversion(name=name, value=None, currency="UAH", event=name, sequence=sequence)


def answered_call_facts(values: dict[str, Any], changes: dict[str, Any]) -> ConversionFacts:
    """An answered 95-second call from +380501234567 to a Kyiv project in UAH; `values` (the
    test module's) and then `changes` (the test's) add or replace fields."""
    base: dict[str, Any] = {
        "project_time_zone": "Europe/Kyiv",
        "currency": "UAH",
        "default_country": "UA",
        "subject_kind": "call",
        "phone_e164": "+380501234567",
        "answered": True,
        "talk_seconds": 95,
    }
    return ConversionFacts(**(base | values | changes))
