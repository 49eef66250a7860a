"""The dedupe id: readable when it can be, never shared by two different conversions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.integrations.base import Conversion, ConversionFacts
from ringtrail.integrations.event_ids import MAX_LENGTH, conversion_event_id


def facts(subject_id: int = 5) -> ConversionFacts:
    return ConversionFacts(
        project_id=2,
        project_time_zone="UTC",
        currency="UAH",
        default_country="UA",
        subject_kind="call",
        subject_id=subject_id,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def conversion(event: str) -> Conversion:
    return Conversion(name="x", value=Decimal(1), currency="UAH", event=event)


def test_a_plain_event_gives_a_readable_id() -> None:
    assert conversion_event_id("meta", facts(), conversion("conversion")) == (
        "rt-meta-2-call-5-conversion"
    )


@given(st.text(max_size=80), st.text(max_size=80))
def test_two_events_never_share_an_id(first: str, second: str) -> None:
    one = conversion_event_id("ga4", facts(), conversion(first))
    other = conversion_event_id("ga4", facts(), conversion(second))
    assert len(one) <= MAX_LENGTH
    assert (one == other) == (first == second)
