"""Additive call counts: what a group of calls adds up to, and the shares derived from it.

Every field of `CallCounts` is a sum, so counts from rollup rows and counts folded from raw
calls add up to the same figures. Shares and averages are derived, never stored.

Definitions (docs/reports.md):
- missed: ended unanswered (missed, busy, failed, abandoned);
- unique: the caller's first call within the project's unique-call window;
- first-time: the caller's first call ever;
- repeat: not unique (the caller rang within the window before);
- target / non-target: judged by sales or a model; unjudged calls are neither;
- unique-target: unique and target; first-target: first-time and target.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ringtrail.domain.reports.facts import CallFact


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

    @classmethod
    def of(cls, fact: CallFact) -> CallCounts:
        """The counts of a single call."""
        wait = fact.wait_seconds
        return cls(
            calls=1,
            answered=int(fact.answered),
            missed=int(fact.missed),
            unique=int(bool(fact.is_unique)),
            first_time=int(bool(fact.is_first_time)),
            repeat=int(fact.is_unique is False),
            target=int(fact.is_target is True),
            non_target=int(fact.is_target is False),
            unique_target=int(bool(fact.is_unique) and fact.is_target is True),
            first_target=int(bool(fact.is_first_time) and fact.is_target is True),
            talk_seconds=max(fact.talk_seconds or 0, 0) if fact.answered else 0,
            wait_seconds=wait or 0,
            waited=int(wait is not None),
        )

    def __add__(self, other: CallCounts) -> CallCounts:
        return CallCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @classmethod
    def total(cls, many: list[CallCounts] | tuple[CallCounts, ...]) -> CallCounts:
        """The sum of many counts."""
        result = cls()
        for counts in many:
            result = result + counts
        return result

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


MEASURES: tuple[str, ...] = tuple(f.name for f in fields(CallCounts))
"""The measure columns of a call rollup row, in order."""
