"""The normalised call: lifecycle events from any provider, folded into one call's timeline.

Telephony adapters translate a provider's webhook or SIP event into a `CallEvent`; nothing past
the adapter sees a provider format. Events may come in any order and more than once: the
timeline is rebuilt from the set of distinct events each time, so `ended` before `started`
still yields one complete call and a redelivered event changes nothing.

Status thresholds (docs/webhooks.md):
- answered: the call was answered (an answer event, an "answered" outcome, or talk time > 0);
- busy / failed: the provider said so (SIP 486/600 are busy; other 4xx-6xx are failed);
- abandoned: not answered and the caller hung up within `ABANDON_SECONDS` of the start;
- missed: not answered, ringing for `ABANDON_SECONDS` or longer (no answer, or caller gave up);
- in_progress: no end known yet.
Every unanswered call with a known caller is flagged for a callback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

ABANDON_SECONDS = 5
"""An unanswered call shorter than this is counted as abandoned rather than missed."""

FIRST_TIME = "no earlier call from the same caller number to the project, ever"
"""What a first-time call is (`calls.is_first_time`)."""
UNIQUE = (
    "no call from the same caller number to the project within the unique-call window "
    "(`unique_call_window_days`, 30 days by default) before this one"
)
"""What a unique call is (`calls.is_unique`); a first-time call is always unique."""
REPEAT = (
    "not unique: the same caller number called the project within the unique-call window before"
)
"""What a repeat call is: every report, filter and doc counts repeat calls as not unique."""
CALLER_TERMS: Mapping[str, str] = {"first-time": FIRST_TIME, "unique": UNIQUE, "repeat": REPEAT}
"""The one wording of each caller-history term; docs/reports.md and docs/webhooks.md use it."""


class CallEventKind(StrEnum):
    """Moments in a call's life that providers report."""

    STARTED = "started"
    ANSWERED = "answered"
    ENDED = "ended"
    RECORDING_READY = "recording_ready"


class CallOutcome(StrEnum):
    """How the provider says a call ended, before Ringtrail classifies it."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    """The caller hung up before anyone answered."""


class CallStatus(StrEnum):
    """What a call is in reports."""

    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    MISSED = "missed"
    BUSY = "busy"
    FAILED = "failed"
    ABANDONED = "abandoned"


UNANSWERED = frozenset(
    {CallStatus.MISSED, CallStatus.BUSY, CallStatus.FAILED, CallStatus.ABANDONED}
)


@dataclass(frozen=True)
class CallEvent:
    """One provider event, normalised.

    `dedupe_key` is unique per provider event (adapters build it from the provider's own ids),
    so the same event delivered five times is stored once. Numbers are as the provider wrote
    them (`dialled` is the tracking number called, `caller` the caller id); the ingestion
    service normalises them to E.164. `total_seconds` runs from the start of ringing to the
    end, `talk_seconds` from the answer to the end.
    """

    provider: str
    provider_call_id: str
    kind: CallEventKind
    occurred_at: datetime
    dedupe_key: str
    dialled: str | None = None
    caller: str | None = None
    forwarded_to: str | None = None
    outcome: CallOutcome | None = None
    total_seconds: int | None = None
    talk_seconds: int | None = None
    recording_url: str | None = None
    recording_duration: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    leg: str | None = None
    """Which leg of the call the event reports, for a provider that reports a transferred
    call leg by leg under one call id (Binotel); None when the call is reported whole."""

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        if not self.provider_call_id:
            raise ValueError("provider_call_id must not be empty")
        for name in ("total_seconds", "talk_seconds", "recording_duration"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True)
class CallTimeline:
    """What the events so far say about one call."""

    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    total_seconds: int | None
    talk_seconds: int | None
    status: CallStatus
    dialled: str | None
    caller: str | None
    forwarded_to: str | None
    recording_urls: tuple[str, ...]

    @property
    def needs_callback(self) -> bool:
        """An unanswered call from a known number: somebody should ring back."""
        return self.status in UNANSWERED and bool(self.caller)


def _first(values: Iterable[Any]) -> Any:
    return next((value for value in values if value not in (None, "")), None)


def classify_status(
    *,
    ended: bool,
    answered: bool,
    outcome: CallOutcome | None,
    total_seconds: int | None,
) -> CallStatus:
    """The report status of a call, by the thresholds in the module docstring."""
    if answered or outcome is CallOutcome.ANSWERED:
        return CallStatus.ANSWERED if ended else CallStatus.IN_PROGRESS
    if not ended:
        return CallStatus.IN_PROGRESS
    if outcome is CallOutcome.BUSY:
        return CallStatus.BUSY
    if outcome is CallOutcome.FAILED:
        return CallStatus.FAILED
    if total_seconds is not None and total_seconds < ABANDON_SECONDS:
        return CallStatus.ABANDONED
    return CallStatus.MISSED


def fold_events(events: Iterable[CallEvent]) -> CallTimeline:
    """One call's timeline from its events, whatever their order. Needs at least one event."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, list(CallEventKind).index(e.kind)))
    if not ordered:
        raise ValueError("a call needs at least one event")
    by_kind = {kind: [e for e in ordered if e.kind is kind] for kind in CallEventKind}
    started_events, answers, ends = (
        by_kind[CallEventKind.STARTED],
        by_kind[CallEventKind.ANSWERED],
        by_kind[CallEventKind.ENDED],
    )
    end = ends[-1] if ends else None
    total = _first(e.total_seconds for e in reversed(ends))
    talk = _first(e.talk_seconds for e in reversed(ends))
    outcome = _first(e.outcome for e in reversed(ends))
    leg_ends = {e.leg: e for e in ends if e.leg is not None}  # the last end of each leg
    if len(leg_ends) > 1:
        # A call reported leg by leg: it lasts from its first start to its last end, its
        # talk is every leg's, and someone answered it if any leg was answered.
        total = None
        talk = sum(e.talk_seconds or 0 for e in leg_ends.values())
        outcomes = [e.outcome for e in leg_ends.values()]
        if CallOutcome.ANSWERED in outcomes:
            outcome = CallOutcome.ANSWERED

    if started_events:
        started_at = started_events[0].occurred_at
    elif end is not None and total is not None:
        started_at = end.occurred_at - timedelta(seconds=total)
    else:
        started_at = ordered[0].occurred_at

    answered_at = answers[0].occurred_at if answers else None
    if answered_at is None and end is not None and talk:
        answered_at = end.occurred_at - timedelta(seconds=talk)
    ended_at = end.occurred_at if end is not None else None
    if ended_at is not None:
        total = total if total is not None else _whole_seconds(ended_at - started_at)
        if talk is None and answered_at is not None:
            talk = _whole_seconds(ended_at - answered_at)
    answered = answered_at is not None or bool(talk)
    status = classify_status(
        ended=end is not None, answered=answered, outcome=outcome, total_seconds=total
    )
    if status is not CallStatus.ANSWERED and end is not None:
        talk = 0
    urls = tuple(
        dict.fromkeys(
            e.recording_url for e in by_kind[CallEventKind.RECORDING_READY] if e.recording_url
        )
    )
    return CallTimeline(
        started_at=started_at,
        answered_at=answered_at,
        ended_at=ended_at,
        total_seconds=total,
        talk_seconds=talk,
        status=status,
        dialled=_first(e.dialled for e in ordered),
        caller=_first(e.caller for e in ordered),
        forwarded_to=_first(e.forwarded_to for e in reversed(ordered)),
        recording_urls=urls,
    )


def _whole_seconds(delta: timedelta) -> int:
    return max(int(delta.total_seconds()), 0)


def sip_outcome(code: int) -> CallOutcome:
    """The outcome of a SIP final response code (RFC 3261): 486/600 busy, 487 canceled, etc."""
    if 200 <= code < 300:
        return CallOutcome.ANSWERED
    if code in (486, 600):
        return CallOutcome.BUSY
    if code == 487:
        return CallOutcome.CANCELED
    if code in (408, 480):
        return CallOutcome.NO_ANSWER
    return CallOutcome.FAILED
