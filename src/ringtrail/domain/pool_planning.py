"""Pool sizing theory: the lower bounds on a pool's size, the vendors' rules of thumb, the hold
policies a pool can follow, and picking the smallest size that reaches an accuracy target.

The attribution window W of a pool is how long after a visitor's last heartbeat their number
stays theirs alone: grace plus cool-down (`attribution_window`). A call placed within W of the
visit can only be attributed to the right session if the number was not handed to anyone else
in between, so a policy that gives every visitor a number needs, at every moment, one number
per visit whose interval [start, last activity + W] covers that moment: the peak overlap of
those intervals (`give_everyone_bound`). Counting only the visits that end in a call gives
the oracle bound, which no real policy reaches (it would have to know who will call).

Everything here is pure: times are seconds (floats) or `timedelta`s passed by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from ringtrail.domain.pools import PoolTimings

CTM_VISITORS_PER_NUMBER = 20
"""CallTrackingMetrics' rule of thumb: one number per 20 daily visitors per source."""

BOUNCE_SECONDS = 30.0
"""Engagement-aware holds: a visitor on the page for less than this is a bounce."""
BOUNCE_GRACE = timedelta(minutes=2)
"""Engagement-aware holds: a bounce's hold outlives its last heartbeat by this only."""
ENGAGED_SECONDS = 300.0
"""Engagement-aware holds: a visitor on the page this long is engaged."""
ENGAGED_EXTRA_GRACE = timedelta(minutes=5)
"""Engagement-aware holds: an engaged visitor's hold outlives the pool's grace by this."""


class HoldPolicy(StrEnum):
    """How a pool hands out and keeps numbers."""

    LRU = "lru"
    """A number for every visitor at the first page, held grace + cool-down after the last
    heartbeat; the least recently released number is reused first (`domain/pools`)."""
    ENGAGED = "engaged"
    """As LRU, but a bounce's hold ends soon after its last heartbeat and an engaged
    visitor's hold lasts longer (`engagement_timings`)."""
    INTENT = "intent"
    """A number only once a phone element scrolls into view or is touched; until then the
    pool's default number shows."""


def attribution_window(timings: PoolTimings) -> timedelta:
    """How long after a visitor's last heartbeat nobody else gets their number (W)."""
    return timings.grace + timings.cooldown


def timings_for_window(window: timedelta, grace: timedelta) -> PoolTimings:
    """Hold times whose window is `window`: the given grace, the rest cool-down."""
    if grace >= window:
        raise ValueError("the grace must be shorter than the attribution window")
    return PoolTimings(grace=grace, cooldown=window - grace)


def engagement_timings(base: PoolTimings, seconds_on_page: float) -> PoolTimings:
    """The hold times of an engagement-aware pool for a visitor on the page this long: a
    bounce is released soon, an engaged visitor kept longer; the cool-down stays the pool's
    (so the reuse order stays the least recently released)."""
    if seconds_on_page < BOUNCE_SECONDS:
        return PoolTimings(grace=min(BOUNCE_GRACE, base.grace), cooldown=base.cooldown)
    if seconds_on_page >= ENGAGED_SECONDS:
        return PoolTimings(grace=base.grace + ENGAGED_EXTRA_GRACE, cooldown=base.cooldown)
    return base


def peak_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """The most half-open intervals [start, end) that cover one moment."""
    events: list[tuple[float, int]] = []
    for start, end in intervals:
        if end > start:
            events.append((start, 1))
            events.append((end, -1))
    events.sort()  # at equal times an end (-1) sorts before a start (+1): half-open
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


@dataclass(frozen=True)
class VisitSpan:
    """One human visit as the bounds see it: seconds since the trace's start."""

    start: float
    last_activity: float
    called: bool = False
    pool: str = ""


def give_everyone_bound(visits: Iterable[VisitSpan], window: timedelta) -> int:
    """The fewest numbers any policy needs that gives every visitor a number and keeps it
    theirs for W after their last activity: the peak overlap of [start, last activity + W)."""
    w = window.total_seconds()
    return peak_overlap((v.start, v.last_activity + w) for v in visits)


def oracle_bound(visits: Iterable[VisitSpan], window: timedelta) -> int:
    """The same over the visits that end in a call: what a policy knowing the callers in
    advance would need (a floor no real policy reaches)."""
    return give_everyone_bound((v for v in visits if v.called), window)


def bounds_by_pool(visits: Sequence[VisitSpan], window: timedelta) -> dict[str, tuple[int, int]]:
    """Per pool: (give-everyone bound, oracle bound)."""
    pools = sorted({v.pool for v in visits})
    return {
        pool: (
            give_everyone_bound((v for v in visits if v.pool == pool), window),
            oracle_bound((v for v in visits if v.pool == pool), window),
        )
        for pool in pools
    }


def ctm_rule_size(daily_visitors: float) -> int:
    """CallTrackingMetrics' rule: one number per 20 daily visitors (per source)."""
    return max(1, math.ceil(daily_visitors / CTM_VISITORS_PER_NUMBER))


def nimbata_rule_size(peak_hourly_visitors: float, mean_session_minutes: float) -> int:
    """Nimbata's rule: peak concurrent visitors / (60 / average session minutes), reading
    "peak concurrent visitors" as the visitors of the busiest hour."""
    if mean_session_minutes <= 0:
        return 1
    return max(1, math.ceil(peak_hourly_visitors / (60.0 / mean_session_minutes)))


@dataclass(frozen=True)
class AccuracyPoint:
    """How accurate a pool of `size` numbers was (a share, 0..1)."""

    size: int
    accuracy: float


def smallest_size_for(
    target: float,
    accuracy_at: Callable[[int], float],
    low: int,
    high: int,
) -> AccuracyPoint:
    """The smallest size in [low, high] whose accuracy reaches `target`, by bisection
    (accuracy grows with the size); `high` when even it falls short."""
    if low > high:
        raise ValueError("low must not exceed high")
    cache: dict[int, float] = {}

    def at(size: int) -> float:
        if size not in cache:
            cache[size] = accuracy_at(size)
        return cache[size]

    if at(high) < target:
        return AccuracyPoint(high, at(high))
    lo, hi = low, high
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return AccuracyPoint(lo, at(lo))


def monthly_cost(numbers: int, price_per_number: float) -> float:
    """What `numbers` pool numbers cost a month at `price_per_number` each."""
    return round(max(numbers, 0) * max(price_per_number, 0.0), 2)


def share(part: int, whole: int) -> float:
    """part / whole, 1.0 for an empty whole (nothing to get wrong)."""
    return 1.0 if whole == 0 else part / whole


def multiples(size: int, bounds: Mapping[str, int]) -> dict[str, float]:
    """`size` as a multiple of each named bound (inf for a zero bound)."""
    return {name: (size / bound if bound else math.inf) for name, bound in bounds.items()}
