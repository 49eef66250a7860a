"""A visit's rules share one time budget; costly patterns are refused before compiling."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain import rule_patterns, source_rules
from ringtrail.domain.rule_patterns import (
    MAX_PATTERN_LENGTH,
    MAX_PATTERN_WEIGHT,
    PatternProblem,
    compile_pattern,
    pattern_problem,
)
from ringtrail.domain.source_rules import (
    CONDITION_FIELDS,
    CONDITION_OPS,
    Condition,
    Rule,
    RuleBudget,
    apply_rules,
)
from ringtrail.domain.sources import Classification, VisitFacts, classify_visit
from ringtrail.services import rule_time

SITE = frozenset({"example.com"})


def visit(query: str = "", path: str = "/pricing") -> Classification:
    url = f"https://example.com{path}" + (f"?{query}" if query else "")
    return classify_visit(VisitFacts(url, "", SITE))


GOOGLE_ADS = visit("utm_source=google&utm_medium=cpc&utm_campaign=spring")
SLOW = visit("utm_campaign=" + "a" * 1500 + "!")


class TickingClock:
    """A fake clock that moves on by `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def rule(rule_id: int, *conditions: Condition, pool_id: int | None = 1) -> Rule:
    return Rule(id=rule_id, priority=rule_id, conditions=conditions, pool_id=pool_id)


def test_rules_stop_when_the_visits_budget_is_spent_and_the_trace_says_why() -> None:
    misses = [rule(i, Condition("utm_source", "equals", "bing")) for i in range(1, 11)]
    catch_all = rule(99)
    budget = RuleBudget(0.5, TickingClock(0.1))
    decision = apply_rules(GOOGLE_ADS, [*misses, catch_all], budget)
    assert (decision.rule_id, decision.pool_id) == (None, None)
    assert decision.classification == GOOGLE_ADS  # the built-in classification stands
    assert decision.trace[-1].startswith("rules stopped: they used their time budget of 500 ms")
    # with time enough, the same rules reach the catch-all
    assert apply_rules(GOOGLE_ADS, [*misses, catch_all], RuleBudget(60, TickingClock(0.1))).rule_id


def test_many_catastrophic_patterns_cost_one_budget_not_one_timeout_each() -> None:
    slow = [rule(i, Condition("utm_campaign", "regex", r"(a|aa)+b")) for i in range(1, 101)]
    started = time.monotonic()
    decision = apply_rules(SLOW, slow, RuleBudget(0.1, time.monotonic))
    elapsed = time.monotonic() - started
    assert decision.rule_id is None and "time budget of 100 ms" in decision.trace[-1]
    assert elapsed < 2.0  # one budget (0.1 s) and slack; 100 timeouts would be 5 s


def test_a_pattern_refused_by_shape_is_never_compiled_and_is_no_match() -> None:
    heavy = Condition("utm_source", "regex", "((g{100}){100}){100}")
    decision = apply_rules(GOOGLE_ADS, [rule(1, heavy), rule(2)])
    assert decision.rule_id == 2
    assert any("refused (counted repeats" in step for step in decision.trace)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^/offer/\d+",
        r"-(ua|pl)$",
        r"^(?:/[a-z]+)+$",
        r"(a|aa)+b",
        r"\d{1000}",
        r"(?:a{10}){100}",
        r"[(]a+[)]+",
        r"\(a+\)+",
        r"(a+)?",
        r"(a+){1,5}",
        r"(?i)google|bing",
    ],
)
def test_ordinary_patterns_pass_the_shape_check(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("a" * (MAX_PATTERN_LENGTH + 1), PatternProblem.TOO_LONG),
        ("(a+)+", PatternProblem.NESTED_REPEAT),
        (r"(?:\w*)*", PatternProblem.NESTED_REPEAT),
        (r"([a-z]+)*$", PatternProblem.NESTED_REPEAT),
        (r"(?P<x>.+)+", PatternProblem.NESTED_REPEAT),
        ("(a+){2,}", PatternProblem.NESTED_REPEAT),
        ("(?:a+?)+", PatternProblem.NESTED_REPEAT),
        ("((a{100}){100}){100}", PatternProblem.TOO_LARGE),
        ("(?:a{1000}){1000}", PatternProblem.TOO_LARGE),
        ("(?:a{100}){11}", PatternProblem.TOO_LARGE),
        (f"a{{{MAX_PATTERN_WEIGHT + 1}}}", PatternProblem.TOO_LARGE),
    ],
)
def test_costly_patterns_are_refused_by_shape(pattern: str, problem: PatternProblem) -> None:
    assert pattern_problem(pattern) is problem


def test_compiled_patterns_are_kept_once_within_a_bounded_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rule_patterns, "_CACHE", rule_patterns._PatternCache())
    monkeypatch.setattr(rule_patterns, "COMPILED_WEIGHT", 5_000)
    first = compile_pattern(r"^/offer/\d+")
    assert compile_pattern(r"^/offer/\d+") is first  # compiled once
    for i in range(50):
        assert compile_pattern(f"x{i}" + "a{500}") is not None
    cache = rule_patterns._CACHE
    assert cache._weight <= 5_000 and len(cache._entries) <= 10
    assert compile_pattern("(a+)+") is PatternProblem.NESTED_REPEAT


@given(st.text(alphabet="()[]{}|*+?\\:,=!<>#aP0123456789", max_size=60))
def test_the_shape_check_never_raises(pattern: str) -> None:
    pattern_problem(pattern)


_CONDITIONS = st.builds(
    Condition,
    field=st.sampled_from(CONDITION_FIELDS),
    op=st.sampled_from(CONDITION_OPS),
    value=st.sampled_from(["google", "cpc", "spring", "^g", "(ua|pl)$", "", None]),
)
_RULES = st.lists(st.lists(_CONDITIONS, max_size=3), max_size=12).map(
    lambda rules: [rule(i, *conditions) for i, conditions in enumerate(rules, 1)]
)


@given(_RULES, st.integers(min_value=0, max_value=30))
def test_evaluation_never_takes_more_steps_than_the_budget_holds(
    rules: list[Rule], steps: int
) -> None:
    """On a clock that moves one second per read, a budget of n seconds allows n checks: the
    budget is read once when it starts and once per rule or regex, plus the read that finds it
    spent. The answer is the unbudgeted one, or the built-in classification with the reason."""
    clock = TickingClock(1.0)
    budget = RuleBudget(steps, clock)
    decision = apply_rules(GOOGLE_ADS, rules, budget)
    assert clock.reads <= steps + 2
    unbounded = apply_rules(GOOGLE_ADS, rules)
    if decision != unbounded:
        assert decision.rule_id is None and decision.classification == GOOGLE_ADS
        assert decision.trace[-1] == budget.reason


def test_the_documented_limits_are_the_ones_the_code_applies() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text("utf-8")
    limits = doc.split("### Limits")[1].split("\n## ")[0]
    assert f"| {source_rules.MAX_RULES_PER_PROJECT} |" in limits
    assert f"| {source_rules.MAX_CONDITIONS_PER_RULE} |" in limits
    assert f"| {MAX_PATTERN_LENGTH} characters |" in limits
    assert f"| {MAX_PATTERN_WEIGHT:,} items |" in limits
    assert f"| {round(source_rules.VISIT_BUDGET_SECONDS * 1000)} ms |" in limits
    share = f"| {rule_time.SHARE_SECONDS:g} s, refilled at {rule_time.REFILL_PER_SECOND:g} s"
    assert share in limits
