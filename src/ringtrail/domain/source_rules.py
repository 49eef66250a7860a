"""Project rules over a classified visit: relabel it and pick its pool or static number.

Rules are tried by ascending priority, then id; the first whose conditions all hold wins and
no later rule is looked at. Comparisons ignore case. A rule decides the pool or static number
the visitor sees; with no rule matching, the visitor keeps the site's original number. A rule's
source / medium / campaign replace the classification's, and the channel is worked out again.

A visit's rules share one time budget (`RuleBudget`, on a clock the caller passes): each regular
expression gets at most `REGEX_TIMEOUT_SECONDS` and never more than the budget has left; when it
is spent, no further rule is tried and the visit keeps its built-in classification, with the
reason in the trace. Patterns are compiled once, and one costly by construction never is
(`rule_patterns`).

For a returning visitor, `choose_touch` decides whether the new visit's decision replaces the
stored one: "last" (the default) is last non-direct touch, "first" keeps the first forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ringtrail.domain.rule_patterns import PROBLEM_TEXT, PatternProblem, compile_pattern
from ringtrail.domain.sources import UTM_KEYS, Classification, channel_for, normalise_host

CONDITION_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer_host",
    "landing_path",
    "landing_url",
    "click_id",
    "channel",
    "source",
    "medium",
)
CONDITION_OPS = ("equals", "contains", "starts_with", "regex", "exists")

REGEX_TIMEOUT_SECONDS = 0.05
"""A `regex` condition that runs longer on one visit counts as no match (no ReDoS)."""
VISIT_BUDGET_SECONDS = 0.1
"""All of a project's rules together, on one visit."""
MAX_RULES_PER_PROJECT = 100
MAX_CONDITIONS_PER_RULE = 10

TouchMode = Literal["first", "last"]
DEFAULT_TOUCH_MODE: TouchMode = "last"


@dataclass(frozen=True)
class Condition:
    """One test on a classified visit, e.g. `utm_source equals google`."""

    field: str
    op: str
    value: str | None = ""
    """The text to compare with; for `exists` empty (or, on `click_id`, a click-id kind)."""

    def describe(self) -> str:
        """The condition as the trace shows it."""
        return f"{self.field} {self.op} {self.value}" if self.value else f"{self.field} {self.op}"


@dataclass(frozen=True)
class Rule:
    """A project's rule: when all conditions hold, relabel the visit and show this number."""

    id: int
    priority: int
    conditions: tuple[Condition, ...]
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    pool_id: int | None = None
    static_number_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class Decision:
    """The classification after the winning rule, and the number it asks for."""

    classification: Classification
    rule_id: int | None
    pool_id: int | None
    static_number_id: int | None
    trace: tuple[str, ...]


class RuleBudget:
    """The time one visit's rules may take together, in seconds of `clock`."""

    def __init__(
        self, seconds: float, clock: Callable[[], float], reason: str | None = None
    ) -> None:
        self.seconds = max(seconds, 0.0)
        self._clock = clock
        self._deadline = clock() + self.seconds
        self.reason = reason or (
            f"rules stopped: they used their time budget of {round(self.seconds * 1000)} ms "
            "for one visit; the visit keeps its built-in classification and the site's own number"
        )
        """The trace's line when the budget runs out."""

    def left(self) -> float:
        """Seconds left; zero or less when spent."""
        return self._deadline - self._clock()


class _BudgetSpent(Exception):
    """The visit's rules used their time budget: no further rule is tried."""


def apply_rules(
    classification: Classification, rules: Sequence[Rule], budget: RuleBudget | None = None
) -> Decision:
    """The decision of the first rule (by priority, then id) whose conditions all hold.

    With a `budget`, rules stop when it is spent: no rule decides, and the trace says why.
    """
    trace = list(classification.trace)
    try:
        for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
            if budget is not None and budget.left() <= 0:
                raise _BudgetSpent
            if all(_holds(c, classification, trace, budget) for c in rule.conditions):
                return _decide(classification, rule, trace)
    except _BudgetSpent:
        assert budget is not None
        trace.append(budget.reason)
        return Decision(classification, None, None, None, tuple(trace))
    trace.append("no rule matched: the site's own number stays")
    return Decision(classification, None, None, None, tuple(trace))


def choose_touch(
    previous: Decision | None, current: Decision, mode: TouchMode = DEFAULT_TOUCH_MODE
) -> Decision:
    """The decision a returning visitor keeps: first touch, or last non-direct touch."""
    if previous is None:
        return replace(current, trace=(*current.trace, "first visit of this visitor"))
    was = _label(previous)
    if mode == "first":
        note = f"first touch: kept the first decision {was}"
        return replace(previous, trace=(*current.trace, note))
    if current.classification.channel == "direct" and previous.classification.channel != "direct":
        note = f"last non-direct touch: a direct return keeps {was}"
        return replace(previous, trace=(*current.trace, note))
    note = f"last non-direct touch: this visit replaces {was}"
    return replace(current, trace=(*current.trace, note))


def _label(decision: Decision) -> str:
    label = f"{decision.classification.source} / {decision.classification.medium}"
    return f"{label} (rule #{decision.rule_id})" if decision.rule_id is not None else label


def _decide(classification: Classification, rule: Rule, trace: list[str]) -> Decision:
    title = f"rule #{rule.id} '{rule.name}'" if rule.name else f"rule #{rule.id}"
    why = " and ".join(c.describe() for c in rule.conditions) or "no conditions (catch-all)"
    trace.append(f"{title} matched: {why}")
    labelled = replace(
        classification,
        source=rule.source or classification.source,
        medium=rule.medium or classification.medium,
        campaign=rule.campaign or classification.campaign,
    )
    for label in ("source", "medium", "campaign"):
        value = getattr(rule, label)
        if value:
            trace.append(f"{label} set to {value}")
    if rule.source or rule.medium:
        channel = channel_for(labelled.source, labelled.medium)
        if channel != labelled.channel:
            trace.append(f"channel {channel} from {labelled.source} / {labelled.medium}")
            labelled = replace(labelled, channel=channel)
    if rule.pool_id is not None:
        trace.append(f"shows a number from pool #{rule.pool_id}")
    elif rule.static_number_id is not None:
        trace.append(f"shows static number #{rule.static_number_id}")
    else:
        trace.append("names no number: the site's own number stays")
    return Decision(labelled, rule.id, rule.pool_id, rule.static_number_id, tuple(trace))


def _holds(
    condition: Condition,
    classification: Classification,
    trace: list[str],
    budget: RuleBudget | None = None,
) -> bool:
    expected = (condition.value or "").strip()
    if condition.field == "click_id":
        return _click_id_holds(condition.op, expected.lower(), classification)
    read = _FIELD_READERS.get(condition.field)
    if read is None:
        trace.append(f"condition '{condition.describe()}': unknown field, no match")
        return False
    actual = read(classification)
    if condition.op == "exists":
        return bool(actual)
    if actual is None:
        return False
    if condition.op == "regex":
        return _regex_holds(condition, expected, actual, trace, budget)
    if condition.field == "referrer_host" and condition.op in ("equals", "starts_with"):
        expected = normalise_host(expected)  # "www.google.com" names the stored "google.com"
    compare = _COMPARISONS.get(condition.op)
    if compare is None:
        trace.append(f"condition '{condition.describe()}': unknown operator, no match")
        return False
    return compare(actual.casefold(), expected.casefold())


def _click_id_holds(op: str, kind: str, classification: Classification) -> bool:
    present = {k.lower() for k in classification.click_ids}
    if op == "exists":
        return kind in present if kind else bool(present)
    if op == "equals":
        return kind in present
    return False


def _regex_holds(
    condition: Condition,
    expected: str,
    actual: str,
    trace: list[str],
    budget: RuleBudget | None,
) -> bool:
    pattern = compile_pattern(expected)
    if isinstance(pattern, PatternProblem):
        why = PROBLEM_TEXT[pattern]
        trace.append(f"condition '{condition.describe()}': refused ({why}), no match")
        return False
    if pattern is None:
        trace.append(f"condition '{condition.describe()}': bad regular expression, no match")
        return False
    timeout = REGEX_TIMEOUT_SECONDS
    if budget is not None:
        left = budget.left()
        if left <= 0:
            raise _BudgetSpent
        timeout = min(timeout, left)
    try:
        # concurrent: the GIL is let go while matching, so other requests' threads run on
        return pattern.search(actual, timeout=timeout, concurrent=True) is not None
    except TimeoutError:
        if budget is not None and budget.left() <= 0:
            raise _BudgetSpent from None
        trace.append(f"condition '{condition.describe()}': regular expression too slow, no match")
        return False


_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda actual, expected: actual == expected,
    "contains": lambda actual, expected: expected in actual,
    "starts_with": lambda actual, expected: actual.startswith(expected),
}


def _utm_reader(key: str) -> Callable[[Classification], str | None]:
    return lambda c: c.utm.get(key)


_FIELD_READERS: dict[str, Callable[[Classification], str | None]] = {
    **{key: _utm_reader(key) for key in UTM_KEYS},
    "referrer_host": lambda c: c.referrer_host,
    "landing_path": lambda c: c.landing_path,
    "landing_url": lambda c: c.landing_url,
    "channel": lambda c: c.channel,
    "source": lambda c: c.source,
    "medium": lambda c: c.medium,
}
