"""The acceptance figures of the pool study on clinic-5k, over a shorter window than the
bench's full month (bench/pool_sim_bench.py runs the month and shows the same points)."""

from __future__ import annotations

import pytest

from ringtrail.domain.pool_planning import HoldPolicy
from ringtrail.simulation.scenario import load_scenario
from ringtrail.simulation.study import Study, run_study
from ringtrail.simulation.traffic import trace_of

DAYS = 3


@pytest.fixture(scope="module")
def study() -> Study:
    trace = trace_of(load_scenario("clinic-5k"), DAYS)
    return run_study(trace, policies=(HoldPolicy.LRU, HoldPolicy.INTENT), curves=False)


def test_at_the_recommended_size_99_percent_of_calls_within_w_find_their_session(
    study: Study,
) -> None:
    plan = study.plans[HoldPolicy.LRU]
    assert plan.result.session_accuracy() >= 0.99
    assert plan.result.source_accuracy() == 1.0  # per-source pools: the default keeps it


def test_default_reuse_needs_at_most_1_1x_the_give_everyone_bound(study: Study) -> None:
    assert study.plans[HoldPolicy.LRU].total <= 1.10 * study.total_bound("give_everyone")


def test_allocation_on_intent_needs_fewer_numbers_than_the_give_everyone_bound(
    study: Study,
) -> None:
    plan = study.plans[HoldPolicy.INTENT]
    assert plan.result.session_accuracy() >= 0.99
    assert plan.total < study.total_bound("give_everyone")
    assert plan.total >= study.total_bound("oracle") or plan.result.overflow_rate > 0


def test_ringtrail_matches_the_callTrackingMetrics_accuracy_with_half_the_numbers(
    study: Study,
) -> None:
    reference = study.at_ctm[HoldPolicy.LRU]
    match = study.ctm_match
    assert match is not None
    assert match.result.session_accuracy() >= reference.session_accuracy()
    assert match.total <= study.total_bound("ctm") / 2
