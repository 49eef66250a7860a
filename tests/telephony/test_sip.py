"""The SIP adapter: Kamailio's event messages (recorded from the real rig) become call events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringtrail.domain.calls import CallEventKind, CallOutcome, CallStatus, fold_events
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.telephony.sip import UNSENT_MARKER, parse_sip_event, unsent_messages

FIXTURES = Path(__file__).parent / "fixtures"
KAMAILIO_CFG = Path(__file__).parents[2] / "deploy" / "kamailio" / "kamailio.cfg"


def recorded(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def test_an_answered_call_recorded_from_kamailio_folds_into_an_answered_call() -> None:
    events = [e for line in recorded("sip_answered_call.jsonl") for e in parse_sip_event(line)]
    assert [e.kind for e in events] == [
        CallEventKind.STARTED,
        CallEventKind.ANSWERED,
        CallEventKind.ENDED,
    ]
    started, _, ended = events
    assert started.provider == "sip"
    assert started.provider_call_id == "rec-answered-1"
    assert started.dialled == "380441234567"
    assert started.caller == "380501112233"
    assert started.occurred_at == datetime(2026, 11, 23, 13, 4, 8, 516537, tzinfo=UTC)
    assert ended.outcome is CallOutcome.ANSWERED
    assert (ended.total_seconds, ended.talk_seconds) == (2, 2)
    assert [e.dedupe_key for e in events] == [
        "sip:rec-answered-1:started",
        "sip:rec-answered-1:answered",
        "sip:rec-answered-1:ended",
    ]
    timeline = fold_events(events)
    assert timeline.status is CallStatus.ANSWERED
    assert timeline.talk_seconds == 2


def test_a_busy_reply_is_an_ended_event_with_the_busy_outcome() -> None:
    started, failed = (parse_sip_event(line) for line in recorded("sip_busy_call.jsonl"))
    [ended] = failed
    assert ended.kind is CallEventKind.ENDED
    assert ended.outcome is CallOutcome.BUSY
    assert (ended.total_seconds, ended.talk_seconds) == (0, 0)
    assert ended.dedupe_key == "sip:rec-busy-1:failed"
    assert ended.payload["sip_code"] == 486
    assert fold_events([*started, ended]).status is CallStatus.BUSY


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (486, CallOutcome.BUSY),
        (600, CallOutcome.BUSY),
        (487, CallOutcome.CANCELED),
        (408, CallOutcome.NO_ANSWER),
        (480, CallOutcome.NO_ANSWER),
        (503, CallOutcome.FAILED),
        ("404", CallOutcome.FAILED),
    ],
)
def test_a_failed_call_takes_its_outcome_from_the_sip_code(
    code: int | str, outcome: CallOutcome
) -> None:
    message = {
        "event": "failed",
        "call_id": "c1",
        "ts": "1795439060.5",
        "ts_started": "1795439040.0",
        "sip_code": code,
    }
    [event] = parse_sip_event(json.dumps(message).encode())
    assert event.outcome is outcome
    assert event.total_seconds == 21  # 20.5 s rounds to the nearest second


def test_durations_are_rounded_from_microsecond_timestamps_and_never_negative() -> None:
    message = {
        "event": "ended",
        "call_id": "c1",
        "ts": 1795439070.4,
        "ts_started": "1795439000.0",
        "ts_answered": "1795439070.9",  # clocks are not perfect
    }
    [event] = parse_sip_event(json.dumps(message))
    assert event.total_seconds == 70
    assert event.talk_seconds == 0


def test_empty_numbers_are_unknown_not_blank() -> None:
    message = {"event": "started", "call_id": " c1 ", "ts": "1795439000", "did": "", "caller": ""}
    [event] = parse_sip_event(json.dumps(message))
    assert event.provider_call_id == "c1"
    assert (event.dialled, event.caller) == (None, None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"event": "ringing", "call_id": "c1", "ts": "1"}', "unknown event"),
        (b'{"event": "started", "ts": "1795439000"}', "call_id is missing"),
        (b'{"event": "started", "call_id": "c1"}', "ts is missing"),
        (b'{"event": "started", "call_id": "c1", "ts": "yesterday"}', "Unix seconds"),
        (b'{"event": "started", "call_id": "c1", "ts": "NaN"}', "out of range"),
        (b'{"event": "started", "call_id": "c1", "ts": true}', "Unix seconds"),
        (b'{"event": "started", "call_id": "c1", "ts": "1", "did": {}}', "did must be"),
        (b'{"event": "failed", "call_id": "c1", "ts": "1795439000"}', "sip_code"),
        (b'{"event": "failed", "call_id": "c1", "ts": "1795439000", "sip_code": 200}', "300-699"),
    ],
)
def test_a_malformed_message_is_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidPayload, match=reason):
        parse_sip_event(body)


def test_unsent_events_are_found_again_in_kamailio_log_lines() -> None:
    started, _, _ = recorded("sip_answered_call.jsonl")
    lines = [
        " 8(16886) ERROR: rabbitmq [utils.c:74]: amqp_channel_open(): socket is closed\n",
        f" 8(16886) ALERT: <script>: {UNSENT_MARKER}{started}\n",
        f"Nov 23 13:04:08 sip kamailio[16886]: ALERT: <script>: {UNSENT_MARKER}{started}\n",
    ]
    assert list(unsent_messages(lines)) == [started, started]


def test_the_kamailio_config_logs_unsent_events_with_the_marker_the_replay_reads() -> None:
    text = KAMAILIO_CFG.read_text(encoding="utf-8")
    assert f'xalert("{UNSENT_MARKER}$async(data)\\n")' in text


def test_every_event_the_kamailio_config_publishes_names_its_trunk() -> None:
    """`source` (the INVITE's source address) lets a project's SIP trunk claim the call."""
    config = KAMAILIO_CFG.read_text(encoding="utf-8")
    events = config.count('jansson_set("string", "event",')
    assert events == 4
    assert config.count('jansson_set("string", "source",') == events
    assert "$dlg_var(source) = $si;" in config
