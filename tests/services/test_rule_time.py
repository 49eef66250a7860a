"""Each project's rules draw on their own share of time: a slow project spends only its own."""

from __future__ import annotations

import pytest

from ringtrail.domain.source_rules import Condition, Rule
from ringtrail.domain.sources import VisitFacts, classify_visit
from ringtrail.services import rule_time
from ringtrail.services.rule_time import SHARE_SPENT, RuleTimeShares

VISIT = classify_visit(
    VisitFacts("https://example.com/?utm_source=google", "", frozenset({"example.com"}))
)
MISS = Rule(id=1, priority=1, conditions=(Condition("utm_source", "equals", "bing"),), pool_id=1)
CATCH_ALL = Rule(id=2, priority=2, conditions=(), pool_id=2)


class FakeClock:
    """A clock the test moves; each read may also cost `cost` seconds, as slow rules would."""

    def __init__(self) -> None:
        self.now = 0.0
        self.cost = 0.0

    def __call__(self) -> float:
        self.now += self.cost
        return self.now


def test_a_project_whose_rules_are_slow_spends_its_own_share_and_no_one_elses() -> None:
    clock = FakeClock()
    shares = RuleTimeShares(per_visit=0.1, share=0.5, refill=0.1, clock=clock)
    clock.cost = 0.05  # every rule check takes 50 ms: each visit uses its whole budget
    decisions = [shares.apply(1, VISIT, [MISS] * 10 + [CATCH_ALL]) for _ in range(10)]
    assert all(decision.rule_id is None for decision in decisions)
    assert "time budget of 100 ms" in decisions[0].trace[-1]
    assert decisions[-1].trace[-1] == SHARE_SPENT
    clock.cost = 0.0
    assert shares.left(1) < 0.1
    starved = shares.apply(1, VISIT, [CATCH_ALL])
    assert starved.rule_id is None and starved.trace[-1] == SHARE_SPENT
    # another project still has all of its share, and its rules decide
    assert shares.left(2) == 0.5
    assert shares.apply(2, VISIT, [MISS, CATCH_ALL]).rule_id == 2


def test_quick_rules_give_their_time_back_and_a_spent_share_refills() -> None:
    clock = FakeClock()
    shares = RuleTimeShares(per_visit=0.1, share=0.5, refill=0.1, clock=clock)
    for _ in range(1000):
        assert shares.apply(1, VISIT, [MISS, CATCH_ALL]).rule_id == 2
    assert shares.left(1) == 0.5
    clock.cost = 0.05
    while shares.left(1) > 0:
        shares.apply(1, VISIT, [MISS] * 10)
    clock.cost = 0.0
    clock.now += 10  # ten seconds at 0.1 s a second: full again
    assert shares.left(1) == 0.5
    assert shares.apply(1, VISIT, [MISS, CATCH_ALL]).rule_id == 2


def test_a_project_without_rules_takes_nothing_from_its_share() -> None:
    clock = FakeClock()
    shares = RuleTimeShares(share=0.5, clock=clock)
    clock.cost = 1.0
    assert shares.apply(1, VISIT, []).trace[-1] == "no rule matched: the site's own number stays"
    assert shares.left(1) == 0.5


def test_the_shares_kept_in_memory_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rule_time, "MAX_PROJECTS", 50)
    shares = RuleTimeShares(clock=FakeClock())
    for project_id in range(1, 500):
        shares.apply(project_id, VISIT, [CATCH_ALL])
    assert len(shares._buckets) <= 50
