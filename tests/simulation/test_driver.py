"""The simulation driver against the domain's full-scan PoolModel, and the pool properties:
no policy beats the give-everyone bound without withholding numbers, and accuracy does not
fall as the pool grows."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringtrail.domain.pool_planning import HoldPolicy, bounds_by_pool
from ringtrail.domain.pools import DefaultNumber, PoolModel, PoolTimings
from ringtrail.simulation.driver import SimulatedPool, at, simulate
from ringtrail.simulation.scenario import Scenario
from ringtrail.simulation.traffic import HUMAN_USER_AGENT, Visit, generate

TIMINGS = PoolTimings(grace=timedelta(minutes=2), cooldown=timedelta(minutes=3))

operations = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=90),  # seconds since the previous operation
        st.sampled_from(["acquire", "heartbeat"]),
        st.integers(min_value=1, max_value=6),  # visitor
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(size=st.integers(min_value=0, max_value=4), ops=operations)
def test_the_indexed_pool_answers_as_the_full_scan_model(
    size: int, ops: list[tuple[int, str, int]]
) -> None:
    pool = SimulatedPool("p", size, TIMINGS, 1, "p")
    model = PoolModel(
        {number_id: state.e164 for number_id, state in pool.states.items()},
        TIMINGS,
        DefaultNumber(pool.default.number_id, pool.default.e164),
    )
    clock = 0.0
    for gap, kind, visitor in ops:
        clock += gap
        now = at(clock)
        visit = Visit(visitor, "p", "p", ((0.0, 1.0),), HUMAN_USER_AGENT)
        if kind == "acquire":
            assert pool.acquire(visit, now, TIMINGS) == model.acquire(str(visitor), now).e164
        else:
            assert pool.heartbeat(visit, now, TIMINGS) == (
                model.heartbeat(str(visitor), now) is not None
            )
    assert pool.overflows == model.overflows


def small_scenario(seed: int, visits_per_day: float) -> Scenario:
    return Scenario(
        name="small",
        days=0.5,
        seed=seed,
        visits_per_day=visits_per_day,
        window_minutes=10,
        grace_minutes=3,
        phone_seen_share=0.6,
        call_share=0.3,
        sources={"a": 0.6, "b": 0.4},
    )


traces = st.builds(
    lambda seed, rate: generate(small_scenario(seed, rate)),
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=200, max_value=1500),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace=traces, policy=st.sampled_from(list(HoldPolicy)), fraction=st.floats(0.2, 1.4))
def test_no_policy_beats_the_give_everyone_bound_unless_it_withholds_numbers(
    trace: object, policy: HoldPolicy, fraction: float
) -> None:
    from ringtrail.simulation.traffic import Trace

    assert isinstance(trace, Trace)
    bounds = bounds_by_pool(trace.spans(), trace.scenario.window)
    sizes = {pool: max(1, round(everyone * fraction)) for pool, (everyone, _) in bounds.items()}
    result = simulate(trace, sizes, policy)
    if result.kept_window == result.humans:  # every visitor had a number for all of W
        assert all(sizes[pool] >= everyone for pool, (everyone, _) in bounds.items())
    if any(sizes[pool] < everyone for pool, (everyone, _) in bounds.items()):
        assert result.kept_window < result.humans


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace=traces, policy=st.sampled_from(list(HoldPolicy)))
def test_accuracy_does_not_fall_as_the_pool_grows(trace: object, policy: HoldPolicy) -> None:
    from ringtrail.simulation.traffic import Trace

    assert isinstance(trace, Trace)
    bounds = bounds_by_pool(trace.spans(), trace.scenario.window)
    top = max(everyone for everyone, _ in bounds.values())
    calls = sum(c.within_window for c in trace.calls) or 1
    noise = 2 / calls  # one or two calls either way
    previous = 0.0
    for size in range(1, top + 3):
        accuracy = simulate(trace, dict.fromkeys(bounds, size), policy).session_accuracy()
        assert accuracy >= previous - noise, (size, accuracy, previous)
        previous = max(previous, accuracy)
