"""The pool-size planner: the smallest size per pool that reaches an accuracy target, from a
project's recorded visits (hold start to last heartbeat) or, with no history yet, from visits
per hour and a visit length.

Recorded visits carry no callers, so the planner gives a sample of them calls drawn from the
call-timing model of the scenario (during the visit, or after it with a lognormal delay) and
runs the trace through the simulator at candidate sizes. Calls never change a pool's state,
so the sample only sets how finely accuracy is measured.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ringtrail.domain.pool_planning import (
    HoldPolicy,
    give_everyone_bound,
    monthly_cost,
    smallest_size_for,
)
from ringtrail.simulation.driver import simulate
from ringtrail.simulation.scenario import Scenario
from ringtrail.simulation.traffic import HUMAN_USER_AGENT, Call, Trace, Visit, generate

MAX_SAMPLED_CALLS = 4000
"""Calls the planner attaches to recorded visits, per pool, at most."""


@dataclass(frozen=True)
class PoolPlan:
    """The planner's advice for one pool."""

    pool: str
    size: int
    expected_accuracy: float
    give_everyone_bound: int
    visits: int
    monthly_cost: float | None = None

    def to_json(self) -> dict[str, object]:
        """As stored with the project."""
        return {
            "size": self.size,
            "expected_accuracy": round(self.expected_accuracy, 4),
            "give_everyone_bound": self.give_everyone_bound,
            "visits": self.visits,
            "monthly_cost": self.monthly_cost,
        }


def trace_from_spans(
    spans_by_pool: Mapping[str, Sequence[tuple[float, float]]],
    duration: float,
    base: Scenario,
    *,
    seed: int = 1,
) -> Trace:
    """A trace of recorded visits ([start, last activity] in seconds), with sampled calls."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    window = base.window.total_seconds()
    visits: list[Visit] = []
    calls: list[Call] = []
    for pool, spans in sorted(spans_by_pool.items()):
        ordered = sorted(spans)
        chance = min(1.0, MAX_SAMPLED_CALLS / len(ordered)) if ordered else 0.0
        for start, end in ordered:
            visit = Visit(
                len(visits) + 1, pool, pool, ((start, max(end, start)),), HUMAN_USER_AGENT
            )
            visits.append(visit)
            if rng.random() >= chance:
                continue
            seen = rng.uniform(visit.start, visit.end)
            visit = Visit(visit.visit_id, pool, pool, visit.segments, HUMAN_USER_AGENT, seen)
            visits[-1] = visit
            if rng.random() < base.call_during_visit_share:
                at = rng.uniform(seen, visit.end)
            else:
                at = visit.end + rng.lognormvariate(
                    math.log(base.call_delay_median_seconds), base.call_delay_sigma
                )
            if at < duration:
                calls.append(
                    Call(
                        0,
                        at,
                        visit.visit_id,
                        f"+1555{visit.visit_id:07d}",
                        False,
                        at <= visit.end + window,
                    )
                )
    calls.sort(key=lambda c: c.at)
    numbered = tuple(
        Call(i, c.at, c.visit_id, c.caller, False, c.within_window)
        for i, c in enumerate(calls, start=1)
    )
    pools = "per_source"
    return Trace(base.replace(pools=pools, bot_share=0.0), duration, tuple(visits), numbered)


def plan_trace(
    trace: Trace,
    *,
    target: float = 0.99,
    policy: HoldPolicy = HoldPolicy.LRU,
    price_per_number: float | None = None,
) -> dict[str, PoolPlan]:
    """The smallest size of each of the trace's pools that reaches `target`."""
    window = trace.scenario.window
    plans: dict[str, PoolPlan] = {}
    for pool in sorted({v.pool for v in trace.visits}):
        spans = [s for s in trace.spans() if s.pool == pool]
        bound = give_everyone_bound(spans, window)

        def accuracy_at(size: int, pool: str = pool) -> float:
            return simulate(trace, {pool: size}, policy).session_accuracy(pool)

        point = smallest_size_for(target, accuracy_at, 1, max(1, math.ceil(bound * 1.2)))
        plans[pool] = PoolPlan(
            pool=pool,
            size=point.size,
            expected_accuracy=point.accuracy,
            give_everyone_bound=bound,
            visits=len(spans),
            monthly_cost=(
                monthly_cost(point.size, price_per_number) if price_per_number is not None else None
            ),
        )
    return plans


def scenario_for_rate(
    visits_per_hour: float,
    visit_seconds: float,
    *,
    base: Scenario | None = None,
    days: float = 7,
) -> Scenario:
    """A flat-rate, single-pool scenario for a site with no history yet."""
    base = base or Scenario()
    return base.replace(
        name="planned",
        days=days,
        visits_per_day=visits_per_hour * 24,
        day_share=0.5,
        day_start_hour=0,
        day_end_hour=12,
        bot_share=0.0,
        visit_median_seconds=max(visit_seconds, 1.0),
        phone_seen_share=1.0,
        call_share=min(1.0, MAX_SAMPLED_CALLS / max(visits_per_hour * 24 * days, 1.0)),
        repeat_share=0.0,
        pools="shared",
        sources={"pool": 1.0},
    )


def plan_for_rate(
    visits_per_hour: float,
    visit_seconds: float,
    *,
    target: float = 0.99,
    base: Scenario | None = None,
    price_per_number: float | None = None,
) -> PoolPlan:
    """The plan of one pool from its visits per hour and typical visit length."""
    trace = generate(scenario_for_rate(visits_per_hour, visit_seconds, base=base))
    return plan_trace(trace, target=target, price_per_number=price_per_number)["shared"]
