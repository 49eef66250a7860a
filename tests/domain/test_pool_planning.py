"""Pool sizing theory: peak overlap, the two bounds, the vendors' rules, engagement-aware
hold times and the bisection that finds the smallest size for a target."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.pool_planning import (
    VisitSpan,
    attribution_window,
    ctm_rule_size,
    engagement_timings,
    give_everyone_bound,
    monthly_cost,
    nimbata_rule_size,
    oracle_bound,
    peak_overlap,
    smallest_size_for,
    timings_for_window,
)
from ringtrail.domain.pools import PoolTimings

W = timedelta(minutes=30)


def test_peak_overlap_counts_half_open_intervals() -> None:
    assert peak_overlap([]) == 0
    assert peak_overlap([(0, 10), (10, 20)]) == 1  # one ends as the other starts
    assert peak_overlap([(0, 10), (5, 20), (6, 7), (30, 40)]) == 3
    assert peak_overlap([(5, 5)]) == 0


@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 100)), max_size=30), st.floats(0, 1100))
def test_peak_overlap_is_at_least_the_cover_of_any_moment(
    raw: list[tuple[float, float]], moment: float
) -> None:
    intervals = [(a, a + length) for a, length in raw]
    covering = sum(a <= moment < b for a, b in intervals)
    assert peak_overlap(intervals) >= covering


def test_bounds_reach_w_past_the_last_activity_and_the_oracle_counts_callers_only() -> None:
    visits = [
        VisitSpan(0, 60, called=True),
        VisitSpan(60 + 29 * 60, 60 + 30 * 60),  # starts before the first one's W ends
        VisitSpan(60 + 31 * 60, 60 + 32 * 60, called=True),  # after it
    ]
    assert give_everyone_bound(visits, W) == 2
    assert oracle_bound(visits, W) == 1
    assert oracle_bound(visits[1:2], W) == 0


def test_the_vendors_rules() -> None:
    assert ctm_rule_size(2500) == 125 and ctm_rule_size(1) == 1
    assert nimbata_rule_size(180, 3.4) == 11  # 180 / (60 / 3.4) = 10.2
    assert nimbata_rule_size(10, 0) == 1


def test_the_window_is_grace_plus_cooldown() -> None:
    timings = timings_for_window(W, timedelta(minutes=10))
    assert timings == PoolTimings(timedelta(minutes=10), timedelta(minutes=20))
    assert attribution_window(timings) == W
    with pytest.raises(ValueError):
        timings_for_window(W, W)


def test_engagement_releases_bounces_early_and_keeps_engaged_visitors_longer() -> None:
    base = PoolTimings(timedelta(minutes=10), timedelta(minutes=20))
    bounce, normal, engaged = (engagement_timings(base, s) for s in (10, 60, 600))
    assert bounce.grace == timedelta(minutes=2) and normal == base
    assert engaged.grace == timedelta(minutes=15)
    assert {bounce.cooldown, engaged.cooldown} == {base.cooldown}  # reuse order unchanged


def test_the_smallest_size_for_a_target_is_found_by_bisection() -> None:
    calls: list[int] = []

    def accuracy(size: int) -> float:
        calls.append(size)
        return min(1.0, size / 40)

    assert smallest_size_for(0.9, accuracy, 1, 100).size == 36
    assert len(calls) <= 9
    assert smallest_size_for(0.9, lambda n: 0.5, 1, 10).size == 10  # falls short: the top
    assert monthly_cost(36, 1.5) == 54.0
