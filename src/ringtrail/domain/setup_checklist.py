"""The set-up checklist of a project: which first steps real data shows done, and which is next.

A project swaps numbers once it has tracking numbers, a pool that an active source rule
points at, the tag on the site (a first visit seen) and a visit that was shown a number; a
first call closes the list. Each step is worked out from facts the caller reads from the
database (`SetupFacts`); nothing here reads or writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Step(StrEnum):
    """The steps, in the order a new project goes through them."""

    NUMBERS = "numbers"
    POOL_AND_RULE = "pool_and_rule"
    TAG_INSTALLED = "tag_installed"
    NUMBER_SHOWN = "number_shown"
    FIRST_CALL = "first_call"


STEPS: tuple[Step, ...] = tuple(Step)


@dataclass(frozen=True)
class SetupFacts:
    """What the database says about a project's set-up."""

    numbers: int = 0
    """Active tracking numbers, static and pool ones."""
    pools_with_rule: int = 0
    """Active pools with numbers that an active source rule points at."""
    first_visit_at: datetime | None = None
    first_visit_page: str | None = None
    first_number_shown_at: datetime | None = None
    first_call_at: datetime | None = None


@dataclass(frozen=True)
class StepState:
    """One step of the checklist: whether it is done and what shows it."""

    step: Step
    done: bool
    when: datetime | None = None
    page: str | None = None


@dataclass(frozen=True)
class Checklist:
    """Every step in order; `next_step` is the first one not done (None when all are)."""

    steps: tuple[StepState, ...]

    @property
    def next_step(self) -> Step | None:
        return next((state.step for state in self.steps if not state.done), None)

    @property
    def complete(self) -> bool:
        return self.next_step is None

    @property
    def done_count(self) -> int:
        return sum(1 for state in self.steps if state.done)


def checklist(facts: SetupFacts) -> Checklist:
    """The checklist `facts` show.

    A later step seen in the data counts as done even when an earlier one is not (a number
    shown proves the tag is installed, whatever was removed since); the next step is the first
    one still open.
    """
    shown = facts.first_number_shown_at
    return Checklist(
        (
            StepState(Step.NUMBERS, facts.numbers > 0),
            StepState(Step.POOL_AND_RULE, facts.pools_with_rule > 0),
            StepState(
                Step.TAG_INSTALLED,
                facts.first_visit_at is not None,
                facts.first_visit_at,
                facts.first_visit_page,
            ),
            StepState(Step.NUMBER_SHOWN, shown is not None, shown),
            StepState(Step.FIRST_CALL, facts.first_call_at is not None, facts.first_call_at),
        )
    )
