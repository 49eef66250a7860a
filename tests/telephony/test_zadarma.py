"""Zadarma notifications: the signature scheme, and each notification as call events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome, CallStatus, fold_events
from ringtrail.telephony import zadarma
from ringtrail.telephony.errors import BadSignature, InvalidPayload

FIXTURES = Path(__file__).parent / "fixtures"
KYIV = ZoneInfo("Europe/Kyiv")
SECRET = "test_secret"
# 2026-01-15 10:30:00 in Kyiv (UTC+2 in winter).
CALL_START_UTC = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)


def sequence() -> list[dict[str, str]]:
    """A recorded-shape incoming call: start, internal, answer, end, record."""
    forms: list[dict[str, str]] = json.loads(
        (FIXTURES / "zadarma_incoming_answered.json").read_text()
    )
    return forms


def form_of(event: str) -> dict[str, str]:
    return next(form for form in sequence() if form["event"] == event)


def parse(form: dict[str, str], received_at: datetime | None = None) -> list[CallEvent]:
    return zadarma.parse_notification(
        form, timezone=KYIV, received_at=received_at or CALL_START_UTC + timedelta(days=1)
    )


def test_signature_matches_the_reference_vector() -> None:
    text = "+380501234567" + "380441234567" + "2026-01-15 10:30:00"
    assert zadarma.sign(SECRET, text) == "ZWU4MDY2NzkyM2ZmYjY0ZWM3NmI4YWFiYTAyMDgxZmY1ODQyMWFkOA=="


def test_start_is_signed_over_caller_did_and_start_time() -> None:
    form = form_of("NOTIFY_START")
    assert zadarma.signed_text(form) == "+3805012345673804412345672026-01-15 10:30:00"
    zadarma.verify_signature(
        form, "ZWU4MDY2NzkyM2ZmYjY0ZWM3NmI4YWFiYTAyMDgxZmY1ODQyMWFkOA==", SECRET
    )


@pytest.mark.parametrize(
    ("event", "signed"),
    [
        ("NOTIFY_END", "+3805012345673804412345672026-01-15 10:30:00"),
        ("NOTIFY_ANSWER", "+3805012345671002026-01-15 10:30:00"),
        ("NOTIFY_RECORD", "in_8a3f0c1d2e4b5a691768465800.3426958"),
    ],
)
def test_each_event_signs_its_own_fields(event: str, signed: str) -> None:
    form = form_of(event)
    assert zadarma.signed_text(form) == signed
    zadarma.verify_signature(form, zadarma.sign(SECRET, signed), SECRET)


def test_signature_of_the_raw_digest_is_refused() -> None:
    # Zadarma base64-encodes the hex text; base64 of the raw 20 bytes is a different string.
    import base64
    import hashlib
    import hmac

    form = form_of("NOTIFY_START")
    raw = hmac.new(SECRET.encode(), zadarma.signed_text(form).encode(), hashlib.sha1).digest()
    with pytest.raises(BadSignature):
        zadarma.verify_signature(form, base64.b64encode(raw).decode(), SECRET)


@pytest.mark.parametrize("signature", [None, "", "bm9wZQ==", "ZWU4MDY2NzkyM2ZmYjY0ZWM3NmI4YWFi"])
def test_missing_or_wrong_signature_is_refused(signature: str | None) -> None:
    with pytest.raises(BadSignature):
        zadarma.verify_signature(form_of("NOTIFY_START"), signature, SECRET)


def test_signature_with_another_secret_is_refused() -> None:
    form = form_of("NOTIFY_START")
    with pytest.raises(BadSignature):
        zadarma.verify_signature(form, zadarma.sign("other", zadarma.signed_text(form)), SECRET)


def test_a_changed_field_breaks_the_signature() -> None:
    form = form_of("NOTIFY_START")
    signature = zadarma.sign(SECRET, zadarma.signed_text(form))
    forged = {**form, "called_did": "380449999999"}
    with pytest.raises(BadSignature):
        zadarma.verify_signature(forged, signature, SECRET)


def test_a_missing_signed_field_is_signed_as_empty_like_zadarmas_sdk() -> None:
    form = {k: v for k, v in form_of("NOTIFY_START").items() if k != "called_did"}
    assert zadarma.signed_text(form) == form["caller_id"] + form["call_start"]
    zadarma.verify_signature(form, zadarma.sign(SECRET, zadarma.signed_text(form)), SECRET)
    with pytest.raises(BadSignature):
        zadarma.verify_signature(form, "x", SECRET)


def test_start_gives_a_started_event_in_utc_from_pbx_local_time() -> None:
    [event] = parse(form_of("NOTIFY_START"))
    assert event.kind is CallEventKind.STARTED
    assert event.provider == "zadarma"
    assert event.provider_call_id == "in_8a3f0c1d2e4b5a69"
    assert event.occurred_at == CALL_START_UTC
    assert event.dialled == "380441234567"
    assert event.caller == "+380501234567"
    assert event.payload["event"] == "NOTIFY_START"


def test_call_start_is_read_in_the_given_timezone() -> None:
    [event] = zadarma.parse_notification(
        form_of("NOTIFY_START"), timezone=ZoneInfo("UTC"), received_at=CALL_START_UTC
    )
    assert event.occurred_at == datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def test_summer_time_is_applied() -> None:
    form = {**form_of("NOTIFY_START"), "call_start": "2026-07-01 12:00:00"}
    [event] = parse(form)
    assert event.occurred_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # UTC+3 in summer


def test_live_answer_takes_its_arrival_time() -> None:
    arrived = CALL_START_UTC + timedelta(seconds=9)
    [event] = parse(form_of("NOTIFY_ANSWER"), received_at=arrived)
    assert event.kind is CallEventKind.ANSWERED
    assert event.occurred_at == arrived
    assert event.forwarded_to == "100"


def test_late_answer_falls_back_to_the_call_start() -> None:
    [event] = parse(form_of("NOTIFY_ANSWER"), received_at=CALL_START_UTC + timedelta(hours=5))
    assert event.occurred_at == CALL_START_UTC


def test_end_gives_outcome_durations_and_a_recording_reference() -> None:
    arrived = CALL_START_UTC + timedelta(seconds=50)
    ended, recording = parse(form_of("NOTIFY_END"), received_at=arrived)
    assert ended.kind is CallEventKind.ENDED
    assert ended.outcome is CallOutcome.ANSWERED
    assert ended.occurred_at == arrived
    assert ended.total_seconds == 50
    assert ended.talk_seconds == 42
    assert ended.dialled == "380441234567"
    assert recording.kind is CallEventKind.RECORDING_READY
    assert recording.recording_url == "zadarma-record:in_8a3f0c1d2e4b5a69:1768465800.3426958"


def test_late_end_is_derived_from_start_and_duration() -> None:
    ended, _ = parse(form_of("NOTIFY_END"), received_at=CALL_START_UTC + timedelta(days=2))
    assert ended.occurred_at == CALL_START_UTC + timedelta(seconds=42)
    assert ended.total_seconds == 42
    assert ended.talk_seconds == 42


def test_end_and_record_name_the_same_recording_once() -> None:
    _, from_end = parse(form_of("NOTIFY_END"))
    [from_record] = parse(form_of("NOTIFY_RECORD"))
    assert from_end.dedupe_key == from_record.dedupe_key
    assert from_end.recording_url == from_record.recording_url


def test_end_without_recording_gives_no_recording_event() -> None:
    form = {**form_of("NOTIFY_END"), "is_recorded": "0", "call_id_with_rec": ""}
    [ended] = parse(form)
    assert ended.kind is CallEventKind.ENDED


@pytest.mark.parametrize(
    ("disposition", "outcome"),
    [
        ("answered", CallOutcome.ANSWERED),
        ("busy", CallOutcome.BUSY),
        ("cancel", CallOutcome.CANCELED),
        ("no answer", CallOutcome.NO_ANSWER),
        ("failed", CallOutcome.FAILED),
        ("no money", CallOutcome.FAILED),
        ("unallocated number", CallOutcome.FAILED),
        ("no limit", CallOutcome.FAILED),
        ("no day limit", CallOutcome.FAILED),
        ("line limit", CallOutcome.FAILED),
        ("no money, no limit", CallOutcome.FAILED),
        ("NO ANSWER", CallOutcome.NO_ANSWER),
        ("something new", None),
    ],
)
def test_disposition_maps_to_outcome(disposition: str, outcome: CallOutcome | None) -> None:
    form = {**form_of("NOTIFY_END"), "disposition": disposition, "is_recorded": "0"}
    [ended] = parse(form)
    assert ended.outcome is outcome


def test_unanswered_end_has_no_talk_time() -> None:
    form = {**form_of("NOTIFY_END"), "disposition": "busy", "duration": "0", "is_recorded": "0"}
    [ended] = parse(form)
    assert ended.talk_seconds == 0


def test_full_sequence_folds_into_one_answered_call() -> None:
    arrivals = {
        "NOTIFY_START": CALL_START_UTC,
        "NOTIFY_INTERNAL": CALL_START_UTC,
        "NOTIFY_ANSWER": CALL_START_UTC + timedelta(seconds=8),
        "NOTIFY_END": CALL_START_UTC + timedelta(seconds=50),
        "NOTIFY_RECORD": CALL_START_UTC + timedelta(seconds=90),
    }
    events = [e for form in sequence() for e in parse(form, arrivals[form["event"]])]
    assert len({e.provider_call_id for e in events}) == 1
    assert len({e.dedupe_key for e in events}) == len(events) - 1  # END and RECORD share one
    timeline = fold_events(events)
    assert timeline.status is CallStatus.ANSWERED
    assert timeline.started_at == CALL_START_UTC
    assert timeline.total_seconds == 50
    assert timeline.talk_seconds == 42
    assert timeline.recording_urls == ("zadarma-record:in_8a3f0c1d2e4b5a69:1768465800.3426958",)


def test_end_alone_still_gives_a_whole_call() -> None:
    events = parse(form_of("NOTIFY_END"), CALL_START_UTC + timedelta(seconds=50))
    timeline = fold_events(events)
    assert timeline.started_at == CALL_START_UTC
    assert timeline.status is CallStatus.ANSWERED


@pytest.mark.parametrize(
    "event", ["NOTIFY_INTERNAL", "NOTIFY_IVR", "NOTIFY_OUT_START", "NOTIFY_OUT_END", "NOTIFY_SMS"]
)
def test_other_notifications_give_no_events(event: str) -> None:
    assert event in zadarma.IGNORED_EVENTS or event not in zadarma.HANDLED_EVENTS
    assert parse({**form_of("NOTIFY_START"), "event": event}) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event": ""}, "event"),
        ({"pbx_call_id": ""}, "pbx_call_id"),
        ({"pbx_call_id": "x" * 500}, "pbx_call_id"),
        ({"call_start": "15.01.2026 10:30"}, "call_start"),
        ({"duration": "forty"}, "duration"),
    ],
)
def test_malformed_notification_says_why(change: dict[str, str], reason: str) -> None:
    form = {**form_of("NOTIFY_END"), **change}
    with pytest.raises(InvalidPayload, match=reason):
        parse(form)


def test_recording_reference_round_trips() -> None:
    ref = zadarma.recording_ref("in_abc", "1768465800.3426958")
    assert zadarma.parse_recording_ref(ref) == ("in_abc", "1768465800.3426958")
    with pytest.raises(ValueError):
        zadarma.parse_recording_ref("https://example.com/a.mp3")
    with pytest.raises(ValueError):
        zadarma.parse_recording_ref("zadarma-record:only-one-part")
