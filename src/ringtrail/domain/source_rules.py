"""Project rules over a classified visit: relabel it and pick its pool or static number.

Rules are tried by ascending priority, then id; the first whose conditions all hold wins and
no later rule is looked at. Comparisons ignore case. A rule decides the pool or static number
the visitor sees; with no rule matching, the visitor keeps the site's original number. A rule's
source / medium / campaign replace the classification's, and the channel is worked out again.

For a returning visitor, `choose_touch` decides whether the new visit's decision replaces the
stored one: "last" (the default) is last non-direct touch, "first" keeps the first forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import regex

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


def apply_rules(classification: Classification, rules: Sequence[Rule]) -> Decision:
    """The decision of the first rule (by priority, then id) whose conditions all hold."""
    trace = list(classification.trace)
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if all(_holds(condition, classification, trace) for condition in rule.conditions):
            return _decide(classification, rule, trace)
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


def _holds(condition: Condition, classification: Classification, trace: list[str]) -> bool:
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
        return _regex_holds(condition, expected, actual, trace)
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


def _regex_holds(condition: Condition, expected: str, actual: str, trace: list[str]) -> bool:
    pattern = _compiled(expected)
    if pattern is None:
        trace.append(f"condition '{condition.describe()}': bad regular expression, no match")
        return False
    try:
        return pattern.search(actual, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        trace.append(f"condition '{condition.describe()}': regular expression too slow, no match")
        return False


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern, regex.IGNORECASE)
    except (regex.error, RecursionError, OverflowError, ValueError):
        return None


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
