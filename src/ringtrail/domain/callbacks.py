"""Callbacks owed to missed callers: which calls need one, and what settles them.

A call needs a callback when it came in (inbound), nobody answered it (missed, busy, failed
or abandoned) and the caller's number is known; it stays open until it is settled:
- `called_back`: a person says they rang the caller back;
- `answered_call`: by itself, when a later answered call with the same person exists, in
  either direction (they rang again and got through, or somebody rang them). The earliest
  such call settles it, whichever order the calls reached Ringtrail in.

Numbers are compared in E.164, as ingestion stores them (`phones.dialled_to_e164` with the
project's default country), so `0441234567` and `+380441234567` are the same person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ringtrail.domain.calls import UNANSWERED, CallStatus


class Direction(StrEnum):
    """Who rang whom."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Resolution(StrEnum):
    """How a callback was settled."""

    CALLED_BACK = "called_back"
    ANSWERED_CALL = "answered_call"


@dataclass(frozen=True)
class CallFacts:
    """What the rule needs of a call: numbers in E.164 (None when unknown)."""

    call_id: int
    started_at: datetime
    direction: str
    status: str
    caller: str | None
    dialled: str | None

    @property
    def other_party(self) -> str | None:
        """The number of the person on the other end: the caller of an inbound call, the
        number dialled by an outbound one."""
        return self.caller if self.direction == Direction.INBOUND else self.dialled


def owes_callback(call: CallFacts) -> bool:
    """An unanswered inbound call from a known number: somebody should ring back."""
    return call.direction == Direction.INBOUND and call.status in UNANSWERED and bool(call.caller)


def settles(later: CallFacts, missed: CallFacts) -> bool:
    """Whether `later` settles the callback `missed` owes: answered, after it, same person."""
    return (
        owes_callback(missed)
        and later.status == CallStatus.ANSWERED
        and later.started_at > missed.started_at
        and later.other_party == missed.caller
    )


def settling_call(missed: CallFacts, calls: Iterable[CallFacts]) -> CallFacts | None:
    """The earliest of `calls` that settles `missed` (ties by id), None when none does."""
    found = [call for call in calls if settles(call, missed)]
    return min(found, key=lambda call: (call.started_at, call.call_id), default=None)


def open_callbacks(calls: Iterable[CallFacts], called_back: Iterable[int] = ()) -> set[int]:
    """The ids of the calls still waiting for a callback: they owe one, no person has said
    they rang back (`called_back`), and no later answered call settles them."""
    every = list(calls)
    done = set(called_back)
    return {
        call.call_id
        for call in every
        if owes_callback(call) and call.call_id not in done and settling_call(call, every) is None
    }


@dataclass(frozen=True)
class CallbackTimes:
    """How fast missed callers were rung back: of `owed` callbacks, `settled` were, the
    median delay of those, and how many within `within` of the missed call."""

    owed: int
    settled: int
    median_delay: timedelta | None
    settled_within: int
    within: timedelta

    @property
    def share_within(self) -> float | None:
        """The share of owed callbacks settled within `within`; None when none was owed."""
        return self.settled_within / self.owed if self.owed else None


def _median(delays: list[timedelta]) -> timedelta | None:
    if not delays:
        return None
    ordered = sorted(delays)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


CALLBACK_TARGET = timedelta(hours=1)
"""The delay a missed caller should be rung back within (the report's "within an hour")."""


def callback_times(
    delays: Iterable[timedelta | None], within: timedelta = CALLBACK_TARGET
) -> CallbackTimes:
    """Figures of owed callbacks, one delay each: from the missed call to its settling, None
    while still open. A delay below zero (clocks of two providers) counts as zero."""
    owed = 0
    settled: list[timedelta] = []
    for delay in delays:
        owed += 1
        if delay is not None:
            settled.append(max(delay, timedelta(0)))
    return CallbackTimes(
        owed=owed,
        settled=len(settled),
        median_delay=_median(settled),
        settled_within=sum(1 for delay in settled if delay <= within),
        within=within,
    )
