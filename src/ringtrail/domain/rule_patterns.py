"""Source rules' regular expressions: refused by their shape, else compiled once and kept.

The `regex` package expands counted repeats when it compiles, so `((a{100}){100}){100}` takes
hundreds of megabytes before any timeout can help, and a group of one repeated item repeated
again, `(a+)+`, backtracks exponentially. Both are seen from the pattern's text alone, by one
pass that never runs the pattern: the time budget of a visit's rules is the real guard, this
only refuses what is costly by construction. Compiled patterns are kept in one cache keyed by
the pattern, bounded by count and by their expanded size.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum

import regex

MAX_PATTERN_LENGTH = 200
MAX_PATTERN_WEIGHT = 1_000
"""Items the pattern holds once its counted repeats are expanded (`a{100}` is 100)."""
COMPILED_PATTERNS = 4096
COMPILED_WEIGHT = 200_000
"""Expanded items kept compiled in all (a compiled item takes about 150 bytes)."""

_COUNTED = re.compile(r"\{(\d*)(,(\d*))?\}")


class PatternProblem(StrEnum):
    """Why a regular expression is refused before it is compiled."""

    TOO_LONG = "too_long"
    NESTED_REPEAT = "nested_repeat"
    TOO_LARGE = "too_large"


PROBLEM_TEXT = {
    PatternProblem.TOO_LONG: f"a regular expression may be at most {MAX_PATTERN_LENGTH} characters",
    PatternProblem.NESTED_REPEAT: "a group holding one repeated item is repeated again, as in "
    "(a+)+, which can take exponential time: write a+ instead",
    PatternProblem.TOO_LARGE: "counted repeats such as {100} make this regular expression larger "
    f"than {MAX_PATTERN_WEIGHT} items once expanded",
}


Compiled = regex.Pattern[str] | PatternProblem | None
"""A usable pattern, why it was refused, or None when it is no regular expression."""


def pattern_problem(pattern: str) -> PatternProblem | None:
    """Why `pattern` may not be compiled, or None when it may (it may still be invalid)."""
    return _judge(pattern)[0]


def compile_pattern(pattern: str) -> Compiled:
    """`pattern` compiled (ignoring case), from the cache when it was compiled before."""
    return _CACHE.get(pattern)


class _PatternCache:
    """Least recently used patterns go first once the count or the expanded size is passed."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[Compiled, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, pattern: str) -> Compiled:
        with self._lock:
            entry = self._entries.get(pattern)
            if entry is not None:
                self._entries.move_to_end(pattern)
                return entry[0]
        compiled, weight = _compile(pattern)
        with self._lock:
            if pattern not in self._entries:
                self._entries[pattern] = (compiled, weight)
                self._weight += weight
            while len(self._entries) > COMPILED_PATTERNS or self._weight > COMPILED_WEIGHT:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0


_CACHE = _PatternCache()


def _compile(pattern: str) -> tuple[Compiled, int]:
    problem, weight = _judge(pattern)
    if problem is not None:
        return problem, 1
    try:
        return regex.compile(pattern, regex.IGNORECASE), max(weight, 1)
    except (regex.error, RecursionError, OverflowError, ValueError):
        return None, 1


def _judge(pattern: str) -> tuple[PatternProblem | None, int]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        return PatternProblem.TOO_LONG, 0
    weight, nested = _measure(pattern)
    if nested:
        return PatternProblem.NESTED_REPEAT, weight
    if weight > MAX_PATTERN_WEIGHT:
        return PatternProblem.TOO_LARGE, weight
    return None, weight


@dataclass
class _Item:
    weight: int
    repeated_without_bound: bool = False
    one_unbounded_item: bool = False
    """A group whose only item repeats without bound, like `(a+)`."""


@dataclass
class _Group:
    items: list[_Item] = field(default_factory=list)
    branches: int = 1

    def weight(self) -> int:
        return sum(item.weight for item in self.items)


def _measure(pattern: str) -> tuple[int, bool]:
    """The expanded weight of `pattern` and whether it repeats `(x+)` without bound."""
    groups = [_Group()]
    nested = False
    at, end = 0, len(pattern)
    while at < end:
        char, group = pattern[at], groups[-1]
        if char == "\\":
            group.items.append(_Item(1))
            at += 2
        elif char == "[":
            group.items.append(_Item(1))
            at = _class_end(pattern, at)
        elif char == "(":
            at, kind = _group_start(pattern, at)
            if kind == "group":
                groups.append(_Group())
            elif kind == "item":
                group.items.append(_Item(1))
        elif char == ")":
            if len(groups) > 1:
                inner = groups.pop()
                single = (
                    inner.branches == 1
                    and len(inner.items) == 1
                    and inner.items[0].repeated_without_bound
                )
                groups[-1].items.append(_Item(max(inner.weight(), 1), one_unbounded_item=single))
            at += 1
        elif char == "|":
            group.branches += 1
            at += 1
        elif (quantifier := _quantifier(pattern, at)) is not None:
            length, least, unbounded = quantifier
            if group.items:
                item = group.items[-1]
                nested = nested or (unbounded and item.one_unbounded_item)
                item.weight = min(item.weight * max(least, 1), MAX_PATTERN_WEIGHT + 1)
                item.repeated_without_bound = item.repeated_without_bound or unbounded
                item.one_unbounded_item = False
            at += length
            if at < end and pattern[at] in "?+":  # lazy or possessive, not another repeat
                at += 1
        else:
            group.items.append(_Item(1))
            at += 1
    return sum(group.weight() for group in groups), nested


def _quantifier(pattern: str, at: int) -> tuple[int, int, bool] | None:
    """(length, least count, unbounded) of the repeat at `at`, or None when there is none."""
    char = pattern[at]
    if char in "*+":
        return 1, 0 if char == "*" else 1, True
    if char == "?":
        return 1, 0, False
    counted = _COUNTED.match(pattern, at) if char == "{" else None
    if counted is None or (counted.group(1) == "" and counted.group(2) is None):
        return None
    least = int(counted.group(1) or 0)
    unbounded = counted.group(2) is not None and counted.group(3) == ""
    return counted.end() - at, least, unbounded


def _class_end(pattern: str, at: int) -> int:
    """The index just after the character class that opens at `at`."""
    at += 1
    if pattern[at : at + 1] == "^":
        at += 1
    if pattern[at : at + 1] == "]":
        at += 1
    while at < len(pattern):
        if pattern[at] == "\\":
            at += 2
        elif pattern[at] == "]":
            return at + 1
        else:
            at += 1
    return at


def _group_start(pattern: str, at: int) -> tuple[int, str]:
    """Where the group opening at `at` starts its contents, and what it is: a "group", an
    "item" (a back-reference) or "none" (a comment or inline flags)."""
    if pattern[at + 1 : at + 2] != "?":
        return at + 1, "group"
    rest = pattern[at + 2 :]
    if rest.startswith("#"):
        close = pattern.find(")", at)
        return (len(pattern) if close < 0 else close + 1), "none"
    if rest.startswith("P="):
        close = pattern.find(")", at)
        return (len(pattern) if close < 0 else close + 1), "item"
    if rest.startswith(("P<", "<")) and not rest.startswith(("<=", "<!")):
        close = pattern.find(">", at)
        return (len(pattern) if close < 0 else close + 1), "group"
    if rest.startswith(("<=", "<!")):
        return at + 4, "group"
    if rest[:1] in (":", "=", "!", ">"):
        return at + 3, "group"
    flags = at + 2
    while flags < len(pattern) and pattern[flags] in "aiLmsux-":
        flags += 1
    if pattern[flags : flags + 1] == ":":
        return flags + 1, "group"
    if pattern[flags : flags + 1] == ")":
        return flags + 1, "none"
    return at + 1, "group"
