"""Additive call counts: what a group of calls adds up to, and the shares derived from it.

Every field of `CallCounts` is a sum, so counts from rollup rows and counts folded from raw
calls add up to the same figures. Shares and averages are derived, never stored.

Definitions (docs/reports.md):
- missed: ended unanswered (missed, busy, failed, abandoned);
- unique, first-time, repeat: as worded in domain/calls.py (`CALLER_TERMS`); repeat is not
  unique;
- target / non-target: judged by sales or a model; unjudged calls are neither;
- unique-target: unique and target; first-target: first-time and target;
- target by user, by rule, by model: target calls by who set the mark (services/
  call_judgement.py); a mark with no judge recorded (older data) counts as a person's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import add, attrgetter

from ringtrail.domain.reports.facts import CallFact

_MACHINES = ("rule", "model")


def ratio(part: float, whole: float) -> float | None:
    """`part / whole`, or None when there is nothing to divide by."""
    return part / whole if whole else None


@dataclass(frozen=True)
class CallCounts:
    """Sums over a group of calls."""

    calls: int = 0
    answered: int = 0
    missed: int = 0
    unique: int = 0
    first_time: int = 0
    repeat: int = 0
    target: int = 0
    non_target: int = 0
    unique_target: int = 0
    first_target: int = 0
    talk_seconds: int = 0
    """Talk time of answered calls."""
    wait_seconds: int = 0
    """Ring time before the answer, of answered calls that report an answer moment."""
    waited: int = 0
    """Answered calls whose wait is known (the divisor of the average wait)."""
    target_by_user: int = 0
    """Target calls marked by a person (the three by-judge counts add up to `target`)."""
    target_by_rule: int = 0
    """Target calls marked by a quality rule."""
    target_by_model: int = 0
    """Target calls marked by the classifier."""

    @classmethod
    def of(cls, fact: CallFact) -> CallCounts:
        """The counts of a single call."""
        return cls(*cls.values_of(fact))

    @staticmethod
    def values_of(fact: CallFact) -> tuple[int, ...]:
        """The counts of a single call as a tuple in field order (folds add these up)."""
        wait = fact.wait_seconds
        is_unique, is_target = fact.is_unique, fact.is_target
        return (
            1,
            int(fact.answered),
            int(fact.missed),
            int(bool(is_unique)),
            int(bool(fact.is_first_time)),
            int(is_unique is False),
            int(is_target is True),
            int(is_target is False),
            int(bool(is_unique) and is_target is True),
            int(bool(fact.is_first_time) and is_target is True),
            max(fact.talk_seconds or 0, 0) if fact.answered else 0,
            wait or 0,
            int(wait is not None),
            int(is_target is True and fact.target_set_by not in _MACHINES),
            int(is_target is True and fact.target_set_by == "rule"),
            int(is_target is True and fact.target_set_by == "model"),
        )

    def __add__(self, other: CallCounts) -> CallCounts:
        # Positional and by a fixed list of names: reports add thousands of these.
        return CallCounts(*map(add, _GET(self), _GET(other)))

    @classmethod
    def total(cls, many: list[CallCounts] | tuple[CallCounts, ...]) -> CallCounts:
        """The sum of many counts."""
        return cls(*[sum(getattr(counts, name) for counts in many) for name in _NAMES])

    def as_dict(self) -> dict[str, int]:
        """The sums by field name (the rollup table's measure columns have these names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def judged(self) -> int:
        """Calls marked target or non-target."""
        return self.target + self.non_target

    @property
    def target_share(self) -> float | None:
        """Target calls among judged calls (lead quality)."""
        return ratio(self.target, self.judged)

    @property
    def missed_share(self) -> float | None:
        """Missed calls among all calls."""
        return ratio(self.missed, self.calls)

    @property
    def unique_share(self) -> float | None:
        """Unique calls among all calls."""
        return ratio(self.unique, self.calls)

    @property
    def average_talk_seconds(self) -> float | None:
        """Mean talk time of answered calls."""
        return ratio(self.talk_seconds, self.answered)

    @property
    def average_wait_seconds(self) -> float | None:
        """Mean time to answer."""
        return ratio(self.wait_seconds, self.waited)


_NAMES: tuple[str, ...] = tuple(f.name for f in fields(CallCounts))
_GET = attrgetter(*_NAMES)


def astuple_counts(counts: CallCounts) -> tuple[int, ...]:
    """The counts in field order (shallow: `dataclasses.astuple` copies deeply and slowly)."""
    values: tuple[int, ...] = _GET(counts)
    return values


MEASURES: tuple[str, ...] = _NAMES
"""The measure columns of a call rollup row, in order."""
