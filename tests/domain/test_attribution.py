"""Attribution with an injected clock: a call during a hold, in grace, after reuse, on overflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.attribution import (
    AttributionKind,
    AttributionPolicy,
    DialledNumber,
    EarlierCall,
    HoldPhase,
    HoldRecord,
    NumberKind,
    SourceLabel,
    attribute_call,
    caller_standing,
)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GRACE = timedelta(minutes=15)
POLICY = AttributionPolicy(cooldown=timedelta(minutes=30))
POOL_NUMBER = DialledNumber(NumberKind.POOL, "+380441000001", number_id=1, pool_id=1)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def hold(
    lease_id: int,
    visitor: int,
    start: float,
    last_heartbeat: float,
    *,
    released: bool = False,
    campaign: str = "winter",
) -> HoldRecord:
    """A hold of the pool number from `start` with heartbeats until `last_heartbeat` (minutes)."""
    until = minutes(last_heartbeat) + GRACE
    return HoldRecord(
        lease_id=lease_id,
        visitor_id=visitor,
        visit_id=visitor * 10,
        leased_at=minutes(start),
        last_heartbeat_at=minutes(last_heartbeat),
        hold_until=until,
        released_at=until if released else None,
        cooldown_until=until + POLICY.cooldown if released else None,
        snapshot={
            "source": "google",
            "medium": "cpc",
            "campaign": campaign,
            "keyword": "flats kyiv",
            "landing_page": "/flats",
        },
    )


def test_a_call_during_a_hold_goes_to_its_session_with_full_confidence() -> None:
    result = attribute_call(POOL_NUMBER, minutes(5), [hold(1, 7, 0, 6)], policy=POLICY)
    assert result.kind is AttributionKind.SESSION
    assert result.confidence == 1.0
    assert result.chosen is not None and result.chosen.phase is HoldPhase.LIVE
    assert result.chosen.hold.visitor_id == 7
    assert result.label == SourceLabel("google", "cpc", "winter")
    assert result.snapshot["keyword"] == "flats kyiv"
    assert "live hold of visitor 7" in result.reason


def test_a_call_in_the_grace_window_still_matches_with_less_confidence() -> None:
    result = attribute_call(POOL_NUMBER, minutes(6 + 10), [hold(1, 7, 0, 6)], policy=POLICY)
    assert result.chosen is not None and result.chosen.phase is HoldPhase.GRACE
    assert result.kind is AttributionKind.SESSION
    assert 0 < result.confidence < 1.0


def test_a_call_while_the_number_cools_down_matches_the_last_holder() -> None:
    result = attribute_call(
        POOL_NUMBER, minutes(6 + 15 + 20), [hold(1, 7, 0, 6, released=True)], policy=POLICY
    )
    assert result.chosen is not None and result.chosen.phase is HoldPhase.COOLING
    grace = attribute_call(POOL_NUMBER, minutes(16), [hold(1, 7, 0, 6)], policy=POLICY)
    assert result.confidence < grace.confidence


def test_after_reuse_the_new_holder_wins_but_confidence_drops_and_both_are_listed() -> None:
    old = hold(1, 7, 0, 6, released=True)
    new = hold(2, 8, 120, 130, campaign="spring")
    alone = attribute_call(POOL_NUMBER, minutes(125), [new], policy=POLICY)
    both = attribute_call(POOL_NUMBER, minutes(125), [old, new], policy=POLICY)
    assert both.chosen is not None and both.chosen.hold.visitor_id == 8
    assert both.label is not None and both.label.campaign == "spring"
    assert both.confidence < alone.confidence == 1.0
    assert [c.hold.lease_id for c in both.candidates] == [2, 1]
    assert [c["phase"] for c in both.candidates_json()] == ["live", "earlier"]
    assert "1 other hold" in both.reason


def test_a_repeat_caller_is_matched_to_their_own_earlier_visitor_after_reuse() -> None:
    old = hold(1, 7, 0, 6, released=True)
    new = hold(2, 8, 120, 130)
    result = attribute_call(
        POOL_NUMBER, minutes(125), [old, new], policy=POLICY, known_visitors={7}
    )
    assert result.chosen is not None and result.chosen.hold.visitor_id == 7
    assert result.chosen.known_caller
    assert 0.5 < result.confidence < 1.0


def test_a_call_before_any_hold_or_long_after_is_unattributed_with_the_reason() -> None:
    before = attribute_call(POOL_NUMBER, minutes(-10), [hold(1, 7, 0, 6)], policy=POLICY)
    assert before.kind is AttributionKind.UNATTRIBUTED
    assert before.confidence == 0.0
    assert "no hold of +380441000001" in before.reason
    late = attribute_call(POOL_NUMBER, minutes(60 * 24 * 8), [hold(1, 7, 0, 6)], policy=POLICY)
    assert late.kind is AttributionKind.UNATTRIBUTED


def test_a_call_to_the_default_number_of_a_full_pool_keeps_the_source_but_no_session() -> None:
    default = DialledNumber(
        NumberKind.POOL_DEFAULT, "+380441000099", 9, 1, SourceLabel("google", "cpc")
    )
    result = attribute_call(default, minutes(5), [hold(1, 7, 0, 6)], policy=POLICY)
    assert result.kind is AttributionKind.POOL_SOURCE
    assert result.label == SourceLabel("google", "cpc")
    assert result.chosen is None and result.snapshot == {}
    assert "session unknown" in result.reason
    mixed = attribute_call(DialledNumber(NumberKind.POOL_DEFAULT, "+380441000099", 9, 1), T0)
    assert mixed.kind is AttributionKind.UNATTRIBUTED


def test_static_and_unknown_numbers() -> None:
    flyer = DialledNumber(NumberKind.STATIC, "+380441000050", 5, label=SourceLabel("flyer"))
    static = attribute_call(flyer, T0)
    assert (static.kind, static.confidence, static.label) == (
        AttributionKind.STATIC,
        1.0,
        SourceLabel("flyer"),
    )
    unknown = attribute_call(DialledNumber(NumberKind.UNKNOWN, "+380441234567"), T0)
    assert unknown.kind is AttributionKind.UNATTRIBUTED
    assert "not a tracking number" in unknown.reason


@given(
    st.lists(
        st.tuples(st.integers(0, 600), st.integers(0, 120), st.booleans()), min_size=1, max_size=8
    ),
    st.integers(-30, 800),
)
def test_confidence_is_a_probability_and_the_chosen_is_the_best(
    spans: list[tuple[int, int, bool]], call_minute: int
) -> None:
    holds = [
        hold(i + 1, i + 1, start, start + length, released=released)
        for i, (start, length, released) in enumerate(spans)
    ]
    result = attribute_call(POOL_NUMBER, minutes(call_minute), holds, policy=POLICY)
    assert 0.0 <= result.confidence <= 1.0
    if result.chosen is not None:
        assert all(result.chosen.weight >= c.weight for c in result.candidates)
        assert result.candidates[0] == result.chosen
    else:
        assert result.kind is AttributionKind.UNATTRIBUTED


def test_caller_standing_first_time_unique_and_repeat() -> None:
    window = timedelta(days=30)
    first = caller_standing([], T0, window)
    assert (first.first_time, first.unique, first.first_call_id) == (True, True, None)
    earlier = [
        EarlierCall(1, T0 - timedelta(days=60), visitor_id=7, lead_id=100),
        EarlierCall(2, T0 - timedelta(days=2), visitor_id=None, lead_id=101),
    ]
    repeat = caller_standing(earlier, T0, window)
    assert (repeat.first_time, repeat.unique, repeat.first_call_id) == (False, False, 1)
    assert repeat.previous_visitor_id == 7
    assert repeat.previous_lead_id == 101
    later = caller_standing(earlier[:1], T0, window)
    assert (later.first_time, later.unique, later.previous_lead_id) == (False, True, None)
    future_only = caller_standing([EarlierCall(3, T0 + timedelta(hours=1), 7, 1)], T0, window)
    assert future_only.first_time
