"""A pool study of one trace: the bounds, the vendors' sizes, the smallest pool each policy
needs for an accuracy target, and accuracy against pool size for the picture.

Pools are independent (a call only ever concerns the holds of the pool its number belongs
to), so sizes are searched pool by pool, running only that pool's visits and calls.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ringtrail.domain.pool_planning import (
    AccuracyPoint,
    HoldPolicy,
    bounds_by_pool,
    ctm_rule_size,
    nimbata_rule_size,
    smallest_size_for,
)
from ringtrail.domain.pools import PoolDemand, recommend_pool_size
from ringtrail.simulation.driver import SimulationResult, simulate
from ringtrail.simulation.traffic import Trace

DEFAULT_TARGET = 0.99
CURVE_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25)
"""Pool sizes of the accuracy curve, as fractions of each pool's give-everyone bound."""


@dataclass(frozen=True)
class PoolBounds:
    """A pool's lower bounds and the vendors' rule-of-thumb sizes."""

    give_everyone: int
    oracle: int
    ctm: int
    nimbata: int
    advice: int = 0
    """`domain/pools.recommend_pool_size`: the 1 % overflow target at the busiest hour."""


@dataclass(frozen=True)
class PolicyPlan:
    """The smallest sizes (per pool) a policy needs for the target, and its run there."""

    policy: HoldPolicy
    sizes: Mapping[str, int]
    result: SimulationResult

    @property
    def total(self) -> int:
        """Numbers in all pools."""
        return sum(self.sizes.values())


@dataclass
class Study:
    """Everything docs/performance.md reports for one trace."""

    trace: Trace
    target: float
    bounds: dict[str, PoolBounds]
    plans: dict[HoldPolicy, PolicyPlan] = field(default_factory=dict)
    at_ctm: dict[HoldPolicy, SimulationResult] = field(default_factory=dict)
    curves: dict[HoldPolicy, list[AccuracyPoint]] = field(default_factory=dict)
    ctm_match: PolicyPlan | None = None
    """The best policy's smallest pools reaching the accuracy the CallTrackingMetrics size
    gives under the default policy."""

    def total_bound(self, name: str) -> int:
        """A bound (or vendor size) summed over the pools."""
        return sum(getattr(b, name) for b in self.bounds.values())


def pool_bounds(trace: Trace) -> dict[str, PoolBounds]:
    """Bounds and vendor sizes of each of the trace's pools."""
    window = trace.scenario.window
    by_pool = bounds_by_pool(trace.spans(), window)
    daily = trace.daily_visits_by_pool()
    peaks = trace.peak_hourly_visits_by_pool()
    minutes = trace.mean_session_minutes()
    human_peaks = trace.peak_hourly_visits_by_pool(humans_only=True)
    timings = trace.scenario.timings
    return {
        pool: PoolBounds(
            give_everyone=by_pool.get(pool, (0, 0))[0],
            oracle=by_pool.get(pool, (0, 0))[1],
            ctm=ctm_rule_size(daily[pool]),
            nimbata=nimbata_rule_size(peaks.get(pool, 0), minutes),
            advice=recommend_pool_size(PoolDemand(human_peaks.get(pool, 0) / 60, minutes), timings),
        )
        for pool in daily
    }


def pool_accuracy(trace: Trace, pool: str, size: int, policy: HoldPolicy) -> float:
    """Session accuracy (calls within W) of one pool of `size` numbers."""
    return simulate(trace, {pool: size}, policy).session_accuracy(pool)


def plan_policy(
    trace: Trace,
    policy: HoldPolicy,
    target: float,
    bounds: Mapping[str, PoolBounds],
) -> PolicyPlan:
    """The smallest size of each pool whose session accuracy reaches `target`."""
    sizes: dict[str, int] = {}
    for pool, bound in bounds.items():
        high = max(2, math.ceil(max(bound.give_everyone, bound.ctm) * 1.5))

        def accuracy_at(size: int, pool: str = pool) -> float:
            return pool_accuracy(trace, pool, size, policy)

        point = smallest_size_for(target, accuracy_at, 1, high)
        sizes[pool] = point.size
    return PolicyPlan(policy, sizes, simulate(trace, sizes, policy))


def accuracy_curve(
    trace: Trace,
    policy: HoldPolicy,
    bounds: Mapping[str, PoolBounds],
    fractions: Sequence[float] = CURVE_FRACTIONS,
) -> list[AccuracyPoint]:
    """Session accuracy against total pool size, each pool scaled to a fraction of its
    give-everyone bound."""
    points = []
    for fraction in fractions:
        sizes = {p: max(1, round(b.give_everyone * fraction)) for p, b in bounds.items()}
        result = simulate(trace, sizes, policy)
        points.append(AccuracyPoint(result.size, result.session_accuracy()))
    return points


def run_study(
    trace: Trace,
    *,
    target: float = DEFAULT_TARGET,
    policies: Iterable[HoldPolicy] = tuple(HoldPolicy),
    curves: bool = True,
    fractions: Sequence[float] = CURVE_FRACTIONS,
) -> Study:
    """Bounds, plans, runs at the CallTrackingMetrics size and (optionally) curves."""
    bounds = pool_bounds(trace)
    study = Study(trace, target, bounds)
    ctm_sizes = {p: b.ctm for p, b in bounds.items()}
    for policy in policies:
        study.plans[policy] = plan_policy(trace, policy, target, bounds)
        study.at_ctm[policy] = simulate(trace, ctm_sizes, policy)
        if curves:
            study.curves[policy] = accuracy_curve(trace, policy, bounds, fractions)
    reference = study.at_ctm.get(HoldPolicy.LRU)
    if reference is not None and study.plans:
        study.ctm_match = plan_policy(
            trace, best_policy(study), reference.session_accuracy(), bounds
        )
    return study


def best_policy(study: Study) -> HoldPolicy:
    """The policy whose plan needs the fewest numbers (ties: the listed order)."""
    return min(study.plans.values(), key=lambda plan: plan.total).policy
