"""Every attribution `attribute_call` can give has a class, and the class fits the number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.attribution import (
    ORIGIN_OF_KIND,
    CallOrigin,
    DialledNumber,
    HoldRecord,
    NumberKind,
    SourceLabel,
    attribute_call,
    origin_of,
)

CALL_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EXPECTED = {
    NumberKind.STATIC: {CallOrigin.AD},
    NumberKind.POOL: {CallOrigin.SITE, CallOrigin.UNKNOWN},
    NumberKind.POOL_DEFAULT: {CallOrigin.SITE, CallOrigin.UNKNOWN},
    NumberKind.UNKNOWN: {CallOrigin.UNKNOWN},
}

holds = st.lists(
    st.builds(
        lambda n, minutes, length: HoldRecord(
            lease_id=n,
            visitor_id=n,
            visit_id=n,
            leased_at=CALL_AT - timedelta(minutes=minutes),
            last_heartbeat_at=CALL_AT - timedelta(minutes=minutes) + timedelta(minutes=length),
            hold_until=CALL_AT - timedelta(minutes=minutes) + timedelta(minutes=length + 5),
            snapshot={"source": "google", "medium": "cpc"},
        ),
        st.integers(1, 1000),
        st.integers(-5, 20_000),
        st.integers(0, 120),
    ),
    max_size=4,
)


@given(
    kind=st.sampled_from(list(NumberKind)),
    source=st.none() | st.sampled_from(["google", ""]),
    found=holds,
)
def test_every_attribution_has_a_class_that_fits_the_number(
    kind: NumberKind, source: str | None, found: list[HoldRecord]
) -> None:
    label = None if source is None else SourceLabel(source, "cpc")
    number = DialledNumber(kind, "+380441234567", label=label)
    attribution = attribute_call(number, CALL_AT, found)
    assert attribution.kind in ORIGIN_OF_KIND
    origin = origin_of(attribution.kind.value)
    assert origin in EXPECTED[kind]
    assert (origin is CallOrigin.SITE) == (
        attribution.confidence > 0 and kind is not NumberKind.STATIC
    )


def test_words_outside_the_vocabulary_are_unknown() -> None:
    assert origin_of("dynamic") is CallOrigin.UNKNOWN
    assert origin_of("") is CallOrigin.UNKNOWN
