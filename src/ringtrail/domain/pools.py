"""Number pools: which number a visitor sees, when holds end, cooling, reuse order and sizing.

A pool number moves through `available -> held -> cooling -> available`. A hold lasts while
heartbeats arrive and for `grace` after the last one; the number then cools for `cooldown`
so a late call still matches the visitor who saw it. The least recently released number is
reused first (a never-used number counts as released at the beginning of time; ties go to
the lower number id). With no number free the visitor sees the pool's default number and an
overflow is counted. Everything here is pure: the caller passes `now`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

BEGINNING_OF_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""The release moment of a number that was never held (reused before any other)."""

DEFAULT_OVERFLOW_TARGET = 0.01
"""The sizing advice aims at P(a visitor finds the pool empty) below this at the peak."""


class NumberStatus(StrEnum):
    """Where a pool number is in its lifecycle at a given moment."""

    HELD = "held"
    COOLING = "cooling"
    AVAILABLE = "available"


class AssignmentKind(StrEnum):
    """How a visitor got the number they see."""

    EXISTING = "existing"
    """Their own live hold, extended."""
    NEW = "new"
    """A free number, now held by them."""
    OVERFLOW = "overflow"
    """Nothing free: the pool's default number, and an overflow is counted."""


@dataclass(frozen=True)
class PoolTimings:
    """How long a hold outlives the last heartbeat, and how long a released number cools."""

    grace: timedelta
    cooldown: timedelta

    def __post_init__(self) -> None:
        if self.grace <= timedelta(0):
            raise ValueError("grace must be positive: a hold must outlive its last heartbeat")
        if self.cooldown < timedelta(0):
            raise ValueError("cooldown must not be negative")


def resolve_timings(
    project_grace_minutes: int,
    project_cooldown_minutes: int,
    pool_grace_minutes: int | None = None,
    pool_cooldown_minutes: int | None = None,
) -> PoolTimings:
    """The one place hold times are decided: the pool's override, else the project's setting.

    A grace of 0 minutes would end a hold the moment it starts, so it is read as one minute.
    """
    grace = pool_grace_minutes if pool_grace_minutes is not None else project_grace_minutes
    cooldown = (
        pool_cooldown_minutes if pool_cooldown_minutes is not None else project_cooldown_minutes
    )
    return PoolTimings(grace=timedelta(minutes=max(grace, 1)), cooldown=timedelta(minutes=cooldown))


def hold_expires_at(last_heartbeat_at: datetime, timings: PoolTimings) -> datetime:
    """When a hold ends if no heartbeat comes: the last heartbeat plus grace."""
    return last_heartbeat_at + timings.grace


def available_again_at(released_at: datetime, timings: PoolTimings) -> datetime:
    """When a released number may be handed out again: its release plus cool-down."""
    return released_at + timings.cooldown


@dataclass(frozen=True)
class NumberState:
    """One pool number and its latest hold.

    `hold_until` is the end of the latest hold (in the future while it is live); a live hold
    has a `holder`. A hold whose end has passed counts as released at that end, the moment
    it really ended, whether or not anyone has written the release down yet.
    """

    number_id: int
    e164: str
    holder: str | None = None
    hold_until: datetime | None = None

    def is_held(self, now: datetime) -> bool:
        """Whether a visitor holds the number at `now`."""
        return self.holder is not None and self.hold_until is not None and self.hold_until > now

    def released_at(self, now: datetime) -> datetime | None:
        """When the number was last released, BEGINNING_OF_TIME if never; None while held."""
        if self.is_held(now):
            return None
        return self.hold_until or BEGINNING_OF_TIME

    def status(self, now: datetime, timings: PoolTimings) -> NumberStatus:
        """Held, cooling or available at `now`."""
        released = self.released_at(now)
        if released is None:
            return NumberStatus.HELD
        if available_again_at(released, timings) > now:
            return NumberStatus.COOLING
        return NumberStatus.AVAILABLE


def reuse_order(state: NumberState, now: datetime) -> tuple[datetime, int]:
    """Sort key of free numbers: least recently released first, then lowest id."""
    return (state.released_at(now) or BEGINNING_OF_TIME, state.number_id)


@dataclass(frozen=True)
class DefaultNumber:
    """The number a pool shows when all its numbers are taken (keeps the source right)."""

    number_id: int
    e164: str


@dataclass(frozen=True)
class Assignment:
    """The number a visitor sees now and why; `number_id` is None only on an overflow
    from a pool that has no default number (the page then keeps its own number)."""

    kind: AssignmentKind
    number_id: int | None
    e164: str | None
    hold_until: datetime | None

    @property
    def overflow(self) -> bool:
        """Whether the pool had nothing free for this visitor."""
        return self.kind is AssignmentKind.OVERFLOW


def live_hold_of(numbers: Iterable[NumberState], visitor: str, now: datetime) -> NumberState | None:
    """The number `visitor` holds at `now`, if any."""
    for state in numbers:
        if state.holder == visitor and state.is_held(now):
            return state
    return None


def next_free_number(
    numbers: Iterable[NumberState], now: datetime, timings: PoolTimings
) -> NumberState | None:
    """The number to hand out next: available, least recently released, lowest id."""
    free = [s for s in numbers if s.status(now, timings) is NumberStatus.AVAILABLE]
    return min(free, key=lambda s: reuse_order(s, now)) if free else None


def choose_number(
    numbers: Iterable[NumberState],
    default: DefaultNumber | None,
    visitor: str,
    now: datetime,
    timings: PoolTimings,
) -> Assignment:
    """Which number `visitor` sees now: their live hold, else the next free one, else the
    default (an overflow). Never takes a number from another visitor."""
    states = list(numbers)
    own = live_hold_of(states, visitor, now)
    if own is not None:
        return Assignment(AssignmentKind.EXISTING, own.number_id, own.e164, now + timings.grace)
    free = next_free_number(states, now, timings)
    if free is not None:
        return Assignment(AssignmentKind.NEW, free.number_id, free.e164, now + timings.grace)
    if default is None:
        return Assignment(AssignmentKind.OVERFLOW, None, None, None)
    return Assignment(AssignmentKind.OVERFLOW, default.number_id, default.e164, None)


@dataclass(frozen=True)
class PoolCensus:
    """How many of a pool's numbers are held, cooling and available at one moment."""

    numbers: int
    held: int
    cooling: int
    available: int

    @property
    def utilisation(self) -> float:
        """The share of numbers not available to a new visitor (held or cooling)."""
        return 0.0 if self.numbers == 0 else round((self.held + self.cooling) / self.numbers, 4)


def take_census(numbers: Iterable[NumberState], now: datetime, timings: PoolTimings) -> PoolCensus:
    """Count the pool's numbers by status at `now`."""
    counts = dict.fromkeys(NumberStatus, 0)
    for state in numbers:
        counts[state.status(now, timings)] += 1
    return PoolCensus(
        numbers=sum(counts.values()),
        held=counts[NumberStatus.HELD],
        cooling=counts[NumberStatus.COOLING],
        available=counts[NumberStatus.AVAILABLE],
    )


# --- sizing -------------------------------------------------------------------------------


def occupancy_minutes(visit_minutes: float, timings: PoolTimings) -> float:
    """How long one visitor keeps a number from others: the visit, grace, then cool-down."""
    return max(visit_minutes, 0.0) + (timings.grace + timings.cooldown).total_seconds() / 60


def offered_load(arrivals_per_minute: float, occupancy: float) -> float:
    """Mean numbers busy at once (Little's law): arrivals per minute x minutes each is busy."""
    return max(arrivals_per_minute, 0.0) * max(occupancy, 0.0)


def poisson_quantile(mean: float, overflow_target: float = DEFAULT_OVERFLOW_TARGET) -> int:
    """The smallest k with P(N > k) < overflow_target for N ~ Poisson(mean).

    Visitors arriving at random and each keeping a number for a while form an M/G/infinity
    queue, whose count of busy numbers is Poisson with mean = offered load; a pool of k numbers
    overflows exactly when more than k would be busy.
    """
    if not 0 < overflow_target < 1:
        raise ValueError("overflow_target must be between 0 and 1")
    if mean <= 0:
        return 0
    log_mean = math.log(mean)
    cumulative = 0.0
    k = 0
    while True:
        cumulative += math.exp(-mean + k * log_mean - math.lgamma(k + 1))
        if 1.0 - cumulative < overflow_target:
            return k
        k += 1


@dataclass(frozen=True)
class PoolDemand:
    """What a pool saw at its busiest: visitors who wanted a number per minute (holds taken
    plus overflows) and the mean visit length in minutes."""

    peak_arrivals_per_minute: float
    mean_visit_minutes: float


def recommend_pool_size(
    demand: PoolDemand,
    timings: PoolTimings,
    *,
    overflow_target: float = DEFAULT_OVERFLOW_TARGET,
    minimum: int = 1,
) -> int:
    """Numbers a pool needs so a visitor at the peak finds it empty less than
    `overflow_target` of the time: the Poisson tail of arrivals x (visit + grace + cool-down).

    Overflows count as arrivals, so an undersized pool's advice grows with its overflows.
    """
    load = offered_load(
        demand.peak_arrivals_per_minute, occupancy_minutes(demand.mean_visit_minutes, timings)
    )
    return max(poisson_quantile(load, overflow_target), minimum)


# --- reference model ----------------------------------------------------------------------


class PoolModel:
    """An in-memory pool driven only by the functions above: the executable specification
    the lease backends are tested against."""

    def __init__(
        self,
        numbers: Mapping[int, str],
        timings: PoolTimings,
        default: DefaultNumber | None = None,
    ) -> None:
        self.timings = timings
        self.default = default
        self.states: dict[int, NumberState] = {
            number_id: NumberState(number_id, e164) for number_id, e164 in numbers.items()
        }
        self.overflows = 0

    def acquire(self, visitor: str, now: datetime) -> Assignment:
        """Give `visitor` a number at `now`, recording the hold or the overflow."""
        assignment = choose_number(self.states.values(), self.default, visitor, now, self.timings)
        if assignment.kind is AssignmentKind.OVERFLOW:
            self.overflows += 1
        else:
            assert assignment.number_id is not None
            self.states[assignment.number_id] = replace(
                self.states[assignment.number_id], holder=visitor, hold_until=assignment.hold_until
            )
        return assignment

    def heartbeat(self, visitor: str, now: datetime) -> datetime | None:
        """Extend `visitor`'s live hold to now + grace; None when they hold nothing."""
        own = live_hold_of(self.states.values(), visitor, now)
        if own is None:
            return None
        hold_until = hold_expires_at(now, self.timings)
        self.states[own.number_id] = replace(own, hold_until=hold_until)
        return hold_until

    def census(self, now: datetime) -> PoolCensus:
        """The pool's numbers by status at `now`."""
        return take_census(self.states.values(), now, self.timings)
