"""The normalised call: folding events in any order, status thresholds, SIP outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.calls import (
    ABANDON_SECONDS,
    CallEvent,
    CallEventKind,
    CallOutcome,
    CallStatus,
    classify_status,
    fold_events,
    sip_outcome,
)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def event(kind: CallEventKind, seconds: int = 0, **fields: object) -> CallEvent:
    return CallEvent(
        provider="test",
        provider_call_id="c1",
        kind=kind,
        occurred_at=T0 + timedelta(seconds=seconds),
        dedupe_key=f"test:c1:{kind.value}:{seconds}",
        **fields,  # type: ignore[arg-type]
    )


ANSWERED_CALL = [
    event(CallEventKind.STARTED, 0, dialled="+380441234567", caller="+380501112233"),
    event(CallEventKind.ANSWERED, 12),
    event(CallEventKind.ENDED, 100, outcome=CallOutcome.ANSWERED),
    event(CallEventKind.RECORDING_READY, 105, recording_url="https://r.example/1.wav"),
]


def test_an_answered_call_has_its_times_and_durations() -> None:
    timeline = fold_events(ANSWERED_CALL)
    assert timeline.started_at == T0
    assert timeline.answered_at == T0 + timedelta(seconds=12)
    assert timeline.ended_at == T0 + timedelta(seconds=100)
    assert (timeline.total_seconds, timeline.talk_seconds) == (100, 88)
    assert timeline.status is CallStatus.ANSWERED
    assert timeline.dialled == "+380441234567"
    assert timeline.recording_urls == ("https://r.example/1.wav",)
    assert not timeline.needs_callback


@given(st.permutations(ANSWERED_CALL), st.lists(st.sampled_from(ANSWERED_CALL), max_size=6))
def test_order_and_redelivery_never_change_the_timeline(
    order: list[CallEvent], repeats: list[CallEvent]
) -> None:
    assert fold_events([*order, *repeats]) == fold_events(ANSWERED_CALL)


def test_ended_alone_still_gives_a_complete_call() -> None:
    ended = event(CallEventKind.ENDED, 90, total_seconds=90, talk_seconds=60, caller="+1")
    timeline = fold_events([ended])
    assert timeline.started_at == T0
    assert timeline.answered_at == T0 + timedelta(seconds=30)
    assert timeline.status is CallStatus.ANSWERED
    assert (timeline.total_seconds, timeline.talk_seconds) == (90, 60)


def test_a_started_call_is_in_progress() -> None:
    assert fold_events([ANSWERED_CALL[0]]).status is CallStatus.IN_PROGRESS
    assert fold_events(ANSWERED_CALL[:2]).status is CallStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("outcome", "total", "status"),
    [
        (CallOutcome.BUSY, 3, CallStatus.BUSY),
        (CallOutcome.FAILED, 0, CallStatus.FAILED),
        (CallOutcome.NO_ANSWER, 30, CallStatus.MISSED),
        (CallOutcome.CANCELED, ABANDON_SECONDS, CallStatus.MISSED),
        (CallOutcome.CANCELED, ABANDON_SECONDS - 1, CallStatus.ABANDONED),
        (None, 20, CallStatus.MISSED),
    ],
)
def test_unanswered_calls_are_classified_by_the_documented_thresholds(
    outcome: CallOutcome | None, total: int, status: CallStatus
) -> None:
    assert classify_status(ended=True, answered=False, outcome=outcome, total_seconds=total) is (
        status
    )
    calls = [
        event(CallEventKind.STARTED, 0, caller="+380501112233"),
        event(CallEventKind.ENDED, total, outcome=outcome),
    ]
    timeline = fold_events(calls)
    assert timeline.status is status
    assert timeline.talk_seconds == 0
    assert timeline.needs_callback


def test_an_unanswered_call_without_a_caller_id_cannot_be_called_back() -> None:
    timeline = fold_events(
        [event(CallEventKind.ENDED, 30, outcome=CallOutcome.NO_ANSWER, total_seconds=30)]
    )
    assert timeline.status is CallStatus.MISSED
    assert not timeline.needs_callback


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (200, CallOutcome.ANSWERED),
        (486, CallOutcome.BUSY),
        (600, CallOutcome.BUSY),
        (487, CallOutcome.CANCELED),
        (480, CallOutcome.NO_ANSWER),
        (408, CallOutcome.NO_ANSWER),
        (503, CallOutcome.FAILED),
        (404, CallOutcome.FAILED),
    ],
)
def test_sip_codes_map_to_outcomes(code: int, outcome: CallOutcome) -> None:
    assert sip_outcome(code) is outcome


def test_events_refuse_naive_times_and_negative_durations() -> None:
    with pytest.raises(ValueError, match="timezone"):
        CallEvent("t", "c", CallEventKind.STARTED, datetime(2026, 1, 1), "k")
    with pytest.raises(ValueError, match="negative"):
        event(CallEventKind.ENDED, 1, total_seconds=-1)
