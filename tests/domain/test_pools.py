"""The pool policy: hand-out order, holds, grace, cool-down, overflow and sizing advice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ringtrail.domain.pools import (
    BEGINNING_OF_TIME,
    AssignmentKind,
    DefaultNumber,
    NumberState,
    NumberStatus,
    PoolDemand,
    PoolModel,
    PoolTimings,
    choose_number,
    hold_expires_at,
    poisson_quantile,
    recommend_pool_size,
    resolve_timings,
    take_census,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TIMINGS = PoolTimings(grace=timedelta(minutes=15), cooldown=timedelta(minutes=30))
DEFAULT = DefaultNumber(99, "+380440000099")


def numbers(count: int) -> dict[int, str]:
    return {i: f"+38044000{i:04d}" for i in range(1, count + 1)}


def test_a_never_used_number_counts_as_released_at_the_beginning_of_time() -> None:
    assert NumberState(1, "+1").released_at(T0) == BEGINNING_OF_TIME


def test_hold_expires_at_last_heartbeat_plus_grace() -> None:
    assert hold_expires_at(T0, TIMINGS) == T0 + timedelta(minutes=15)


def test_pool_override_beats_project_setting_and_zero_grace_is_one_minute() -> None:
    assert resolve_timings(15, 30, 5, None) == PoolTimings(
        timedelta(minutes=5), timedelta(minutes=30)
    )
    assert resolve_timings(0, 0).grace == timedelta(minutes=1)


def test_least_recently_released_number_is_reused_first_ties_by_id() -> None:
    states = [
        NumberState(3, "+3", holder="old", hold_until=T0 - timedelta(hours=2)),
        NumberState(2, "+2", holder="older", hold_until=T0 - timedelta(hours=3)),
        NumberState(5, "+5"),
        NumberState(4, "+4"),
    ]
    first = choose_number(states, DEFAULT, "v", T0, TIMINGS)
    assert (first.kind, first.number_id) == (AssignmentKind.NEW, 4)
    rest = [s for s in states if s.number_id not in (4, 5)]
    assert choose_number(rest, DEFAULT, "v", T0, TIMINGS).number_id == 2


def test_a_cooling_number_is_not_handed_out_and_the_default_is_shown() -> None:
    states = [NumberState(1, "+1", holder="a", hold_until=T0 - timedelta(minutes=10))]
    assert states[0].status(T0, TIMINGS) is NumberStatus.COOLING
    outcome = choose_number(states, DEFAULT, "v", T0, TIMINGS)
    assert outcome.overflow and outcome.e164 == DEFAULT.e164


def test_an_overflow_without_default_number_shows_nothing() -> None:
    states = [NumberState(1, "+1", holder="a", hold_until=T0 + timedelta(minutes=1))]
    outcome = choose_number(states, None, "v", T0, TIMINGS)
    assert outcome.overflow and outcome.number_id is None


def test_census_counts_held_cooling_and_available() -> None:
    states = [
        NumberState(1, "+1", holder="a", hold_until=T0 + timedelta(minutes=1)),
        NumberState(2, "+2", holder="b", hold_until=T0 - timedelta(minutes=1)),
        NumberState(3, "+3"),
    ]
    census = take_census(states, T0, TIMINGS)
    assert (census.held, census.cooling, census.available) == (1, 1, 1)
    assert census.utilisation == pytest.approx(2 / 3, abs=1e-4)


def test_poisson_quantile_keeps_the_overflow_chance_under_the_target() -> None:
    import math

    for mean in (0.5, 3.0, 10.0, 120.0, 900.0):
        k = poisson_quantile(mean, 0.01)
        tail = 1 - sum(
            math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1)) for i in range(k + 1)
        )
        tail_before = tail + math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))
        assert tail < 0.01 <= tail_before


def test_recommended_size_covers_visit_grace_and_cooldown_with_headroom() -> None:
    demand = PoolDemand(peak_arrivals_per_minute=2.0, mean_visit_minutes=5.0)
    size = recommend_pool_size(demand, TIMINGS)
    mean_busy = 2.0 * (5 + 15 + 30)
    assert mean_busy < size <= mean_busy + 4 * mean_busy**0.5
    busier = PoolDemand(peak_arrivals_per_minute=4.0, mean_visit_minutes=5.0)
    assert recommend_pool_size(busier, TIMINGS) > size


def test_a_pool_with_no_demand_still_recommends_one_number() -> None:
    assert recommend_pool_size(PoolDemand(0.0, 0.0), TIMINGS) == 1


class PoolMachine(RuleBasedStateMachine):
    """Drives PoolModel with random visits, heartbeats and clock jumps, and checks every
    answer against bookkeeping kept here independently of the pool code. Pool size, grace and
    cool-down are drawn too (grace from one minute, cool-down from none)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.size = 4
        self.timings = TIMINGS
        self.pool = PoolModel(numbers(self.size), self.timings, DEFAULT)
        # number -> (visitor, hold end) of its latest hold, as the answers told us
        self.latest: dict[int, tuple[str, datetime]] = {}

    @initialize(
        size=st.integers(min_value=1, max_value=6),
        grace=st.integers(min_value=1, max_value=40),
        cooldown=st.integers(min_value=0, max_value=60),
    )
    def a_pool_is_set_up(self, size: int, grace: int, cooldown: int) -> None:
        self.size = size
        self.timings = PoolTimings(timedelta(minutes=grace), timedelta(minutes=cooldown))
        self.pool = PoolModel(numbers(size), self.timings, DEFAULT)

    def _live(self, number_id: int) -> bool:
        hold = self.latest.get(number_id)
        return hold is not None and hold[1] > self.now

    def _free_since(self, number_id: int) -> datetime | None:
        hold = self.latest.get(number_id)
        if hold is None:
            return BEGINNING_OF_TIME
        return None if hold[1] + self.timings.cooldown > self.now else hold[1]

    @rule(minutes=st.integers(min_value=0, max_value=50), seconds=st.integers(0, 59))
    def time_passes(self, minutes: int, seconds: int) -> None:
        self.now += timedelta(minutes=minutes, seconds=seconds)

    @rule(visitor=st.sampled_from(["v1", "v2", "v3", "v4", "v5", "v6"]))
    def visitor_opens_a_page(self, visitor: str) -> None:
        own = [n for n, (who, _) in self.latest.items() if who == visitor and self._live(n)]
        free = {n: since for n in numbers(self.size) if (since := self._free_since(n)) is not None}
        outcome = self.pool.acquire(visitor, self.now)
        if own:
            # a live visitor keeps the same number across requests
            assert outcome.kind is AssignmentKind.EXISTING and outcome.number_id == own[0]
        elif free:
            # never an overflow while a free number exists; least recently released first
            assert outcome.kind is AssignmentKind.NEW
            # never a second live hold on a number somebody holds
            assert outcome.number_id is not None and not self._live(outcome.number_id)
            assert outcome.number_id == min(free, key=lambda n: (free[n], n))
        else:
            # overflow only when every number is held or cooling: the default is shown
            assert outcome.kind is AssignmentKind.OVERFLOW and outcome.e164 == DEFAULT.e164
        if outcome.kind is not AssignmentKind.OVERFLOW:
            assert outcome.number_id is not None and outcome.hold_until is not None
            assert outcome.hold_until == self.now + self.timings.grace
            self.latest[outcome.number_id] = (visitor, outcome.hold_until)

    @rule(visitor=st.sampled_from(["v1", "v2", "v3", "v4", "v5", "v6"]))
    def visible_tab_sends_a_heartbeat(self, visitor: str) -> None:
        own = [n for n, (who, _) in self.latest.items() if who == visitor and self._live(n)]
        extended = self.pool.heartbeat(visitor, self.now)
        if not own:
            # a hold is gone only after last heartbeat + grace, and then stays gone
            assert extended is None
            return
        assert extended == self.now + self.timings.grace
        self.latest[own[0]] = (visitor, extended)

    @invariant()
    def never_two_live_holds_on_one_number(self) -> None:
        live = [s for s in self.pool.states.values() if s.is_held(self.now)]
        assert len({s.holder for s in live}) == len(live)
        for state in live:
            assert self.latest[state.number_id] == (state.holder, state.hold_until)

    @invariant()
    def census_matches_bookkeeping(self) -> None:
        census = self.pool.census(self.now)
        held = sum(self._live(n) for n in numbers(self.size))
        assert census.held == held
        free = sum(1 for n in numbers(self.size) if self._free_since(n) is not None)
        assert census.available == free
        assert census.numbers == self.size


PoolMachine.TestCase.settings = hypothesis_settings(
    max_examples=150, stateful_step_count=60, deadline=None
)
test_pool_lifecycle_holds_under_random_traffic = PoolMachine.TestCase
