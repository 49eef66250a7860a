"""Twilio adapter: signature vectors, events from each callback, and the TwiML we answer.

Payloads in fixtures/ are form bodies with the fields Twilio documents for each callback
(protocols.md §5); the signature vectors are the twilio-python library's own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome, CallStatus, fold_events
from ringtrail.telephony import twilio
from ringtrail.telephony.errors import BadSignature, InvalidPayload

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 3, 3, 10, 15, 0, tzinfo=UTC)

VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}


def parse_twiml(xml: str) -> ET.Element:
    """Our own TwiML, parsed to check its shape (trusted input, so the stdlib parser is fine)."""
    return ET.fromstring(xml)  # noqa: S314


def fixture(name: str) -> dict[str, str]:
    """One recorded callback's form fields."""
    body = (FIXTURES / f"twilio_{name}.txt").read_text().strip()
    return dict(parse_qsl(body, keep_blank_values=True))


# --- signatures ---------------------------------------------------------------------------


def test_the_library_vector_is_accepted() -> None:
    twilio.check_signature(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_the_library_vector_with_repeated_values_is_accepted() -> None:
    params = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234", "1234"]}
    twilio.check_signature(VECTOR_TOKEN, VECTOR_URL, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_the_library_vector_with_a_port_is_accepted() -> None:
    url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2"
    twilio.check_signature(VECTOR_TOKEN, url, VECTOR_PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")


def test_compute_signature_gives_the_library_vector() -> None:
    params = {name: values[0] for name, values in VECTOR_PARAMS.items()}
    assert twilio.compute_signature(VECTOR_TOKEN, VECTOR_URL, params) == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_a_default_port_in_the_url_does_not_break_the_signature() -> None:
    url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    twilio.check_signature(VECTOR_TOKEN, url, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        pytest.param(
            "54321", VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="token"
        ),
        pytest.param(
            VECTOR_TOKEN,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            VECTOR_PARAMS,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="query",
        ),
        pytest.param(
            VECTOR_TOKEN,
            VECTOR_URL,
            {**VECTOR_PARAMS, "Digits": ["9999"]},
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="altered-field",
        ),
        pytest.param(
            VECTOR_TOKEN,
            VECTOR_URL,
            {**VECTOR_PARAMS, "CallStatus": ["completed"]},
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="added-field",
        ),
        pytest.param(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, "", id="no-signature"),
        pytest.param(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, None, id="no-header"),
        pytest.param("", VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="no-token"),
        pytest.param(None, VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="none"),
    ],
)
def test_anything_but_the_exact_request_is_refused(
    token: str | None, url: str, params: dict[str, list[str]], signature: str | None
) -> None:
    with pytest.raises(BadSignature):
        twilio.check_signature(token, url, params, signature)


def test_an_unknown_signature_algorithm_is_refused() -> None:
    with pytest.raises(BadSignature):
        twilio.check_signature(
            VECTOR_TOKEN,
            VECTOR_URL,
            VECTOR_PARAMS,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            signature_settings="key=sk1,algorithm=HMAC_MD5",
        )


# --- events -------------------------------------------------------------------------------


def test_the_voice_webhook_starts_the_call_with_its_numbers() -> None:
    params = fixture("voice_inbound")
    [event] = twilio.voice_events(params, received_at=NOW, forwarded_to="+380501234567")
    assert event.kind is CallEventKind.STARTED
    assert event.provider == "twilio"
    assert event.provider_call_id == params["CallSid"]
    assert event.occurred_at == NOW
    assert (event.dialled, event.caller, event.forwarded_to) == (
        "+380443334455",
        "+380671234567",
        "+380501234567",
    )
    assert event.dedupe_key == f"twilio:{params['CallSid']}:started:voice"
    assert event.payload == params


def test_ringing_starts_the_call_at_the_callback_timestamp() -> None:
    [event] = twilio.status_events(fixture("status_ringing"), received_at=NOW)
    assert event.kind is CallEventKind.STARTED
    assert event.occurred_at == datetime(2026, 3, 3, 10, 15, 2, tzinfo=UTC)


def test_in_progress_is_the_answer() -> None:
    [event] = twilio.status_events(fixture("status_in_progress"), received_at=NOW)
    assert event.kind is CallEventKind.ANSWERED
    assert event.occurred_at == datetime(2026, 3, 3, 10, 15, 9, tzinfo=UTC)


def test_completed_gives_the_total_time_but_not_the_outcome() -> None:
    [event] = twilio.status_events(fixture("status_completed"), received_at=NOW)
    assert event.kind is CallEventKind.ENDED
    assert event.total_seconds == 47
    assert event.talk_seconds is None
    assert event.outcome is None  # whether anyone answered is the Dial's to say


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("busy", CallOutcome.BUSY),
        ("no-answer", CallOutcome.NO_ANSWER),
        ("failed", CallOutcome.FAILED),
        ("canceled", CallOutcome.CANCELED),
    ],
)
def test_unanswered_endings_carry_their_outcome(status: str, outcome: CallOutcome) -> None:
    params = {**fixture("status_completed"), "CallStatus": status, "CallDuration": "0"}
    [event] = twilio.status_events(params, received_at=NOW)
    assert event.kind is CallEventKind.ENDED
    assert event.outcome is outcome
    assert event.total_seconds is None  # 0 is Twilio's "never answered", not the ring time


def test_a_redelivered_status_callback_has_the_same_dedupe_key() -> None:
    first = twilio.status_events(fixture("status_completed"), received_at=NOW)
    again = twilio.status_events(fixture("status_completed"), received_at=datetime.now(UTC))
    assert [e.dedupe_key for e in first] == [e.dedupe_key for e in again]


def test_each_status_has_its_own_dedupe_key() -> None:
    keys = {
        twilio.status_events(fixture(name), received_at=NOW)[0].dedupe_key
        for name in ("status_ringing", "status_in_progress", "status_completed")
    }
    assert len(keys) == 3


def test_when_nobody_was_dialled_the_answer_is_not_an_answer() -> None:
    assert (
        twilio.status_events(fixture("status_in_progress"), received_at=NOW, forwarded=False) == []
    )
    [end] = twilio.status_events(fixture("status_completed"), received_at=NOW, forwarded=False)
    assert end.outcome is CallOutcome.NO_ANSWER


@pytest.mark.parametrize(
    "extra",
    [{"ParentCallSid": "CA00000000000000000000000000000000"}, {"Direction": "outbound-api"}],
    ids=["child-leg", "outbound"],
)
def test_legs_that_are_not_calls_to_a_tracking_number_give_no_events(
    extra: dict[str, str],
) -> None:
    assert twilio.status_events({**fixture("status_completed"), **extra}, received_at=NOW) == []


def test_a_status_callback_without_a_timestamp_happens_when_received() -> None:
    params = fixture("status_ringing")
    del params["Timestamp"]
    [event] = twilio.status_events(params, received_at=NOW)
    assert event.occurred_at == NOW


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"CallSid": ""}, "CallSid is missing"),
        ({"CallStatus": ""}, "CallStatus is missing"),
        ({"CallStatus": "exploded"}, "unknown CallStatus"),
        ({"CallDuration": "forty"}, "CallDuration must be a whole number"),
        ({"CallDuration": "-3"}, "CallDuration must be a whole number"),
        ({"Timestamp": "yesterday"}, "Timestamp is not an RFC 2822 date"),
    ],
)
def test_a_malformed_status_callback_says_what_is_wrong(
    change: dict[str, str], reason: str
) -> None:
    with pytest.raises(InvalidPayload, match=reason):
        twilio.status_events({**fixture("status_completed"), **change}, received_at=NOW)


def test_an_answered_dial_gives_talk_time_outcome_and_recording() -> None:
    params = fixture("dial_completed")
    end, recording = twilio.dial_events(params, received_at=NOW)
    assert end.kind is CallEventKind.ENDED
    assert end.outcome is CallOutcome.ANSWERED
    assert end.talk_seconds == 38
    assert end.total_seconds is None
    assert recording.kind is CallEventKind.RECORDING_READY
    assert recording.recording_url == params["RecordingUrl"] + ".wav"
    assert recording.recording_duration == 38


def test_an_unanswered_dial_gives_no_talk_time() -> None:
    [end] = twilio.dial_events(fixture("dial_no_answer"), received_at=NOW)
    assert end.outcome is CallOutcome.NO_ANSWER
    assert end.talk_seconds == 0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("answered", CallOutcome.ANSWERED),
        ("busy", CallOutcome.BUSY),
        ("failed", CallOutcome.FAILED),
        ("canceled", CallOutcome.CANCELED),
    ],
)
def test_dial_statuses_map_to_outcomes(status: str, outcome: CallOutcome) -> None:
    params = {**fixture("dial_no_answer"), "DialCallStatus": status}
    assert twilio.dial_events(params, received_at=NOW)[0].outcome is outcome


def test_an_unknown_dial_status_is_malformed() -> None:
    with pytest.raises(InvalidPayload, match="unknown DialCallStatus"):
        twilio.dial_events({**fixture("dial_no_answer"), "DialCallStatus": "?"}, received_at=NOW)


def test_a_completed_recording_is_ready_under_the_dials_key() -> None:
    [ready] = twilio.recording_events(fixture("recording_completed"), received_at=NOW)
    _, from_dial = twilio.dial_events(fixture("dial_completed"), received_at=NOW)
    assert ready.kind is CallEventKind.RECORDING_READY
    assert ready.recording_url == from_dial.recording_url
    assert ready.recording_duration == 38
    assert ready.dedupe_key == from_dial.dedupe_key  # whichever comes first counts once


@pytest.mark.parametrize("status", ["in-progress", "absent", "failed"])
def test_recordings_that_are_not_complete_give_no_events(status: str) -> None:
    params = {**fixture("recording_completed"), "RecordingStatus": status}
    assert twilio.recording_events(params, received_at=NOW) == []


def test_a_completed_recording_without_its_url_is_malformed() -> None:
    params = {**fixture("recording_completed"), "RecordingUrl": ""}
    with pytest.raises(InvalidPayload, match="RecordingUrl is missing"):
        twilio.recording_events(params, received_at=NOW)


@pytest.mark.parametrize(
    ("url", "media"),
    [
        ("https://api.twilio.com/x/Recordings/RE1", "https://api.twilio.com/x/Recordings/RE1.wav"),
        (
            "https://api.twilio.com/x/Recordings/RE1.mp3",
            "https://api.twilio.com/x/Recordings/RE1.mp3",
        ),
    ],
)
def test_the_recording_media_url_names_a_format(url: str, media: str) -> None:
    assert twilio.recording_media_url(url) == media


# --- the callbacks together ---------------------------------------------------------------


def _all_events(*batches: list[CallEvent]) -> list[CallEvent]:
    return [event for batch in batches for event in batch]


def test_an_answered_call_folds_to_answered_with_talk_and_total_time() -> None:
    events = _all_events(
        twilio.voice_events(fixture("voice_inbound"), received_at=NOW),
        twilio.status_events(fixture("status_ringing"), received_at=NOW),
        twilio.status_events(fixture("status_in_progress"), received_at=NOW),
        twilio.dial_events(fixture("dial_completed"), received_at=NOW),
        twilio.status_events(fixture("status_completed"), received_at=NOW),
        twilio.recording_events(fixture("recording_completed"), received_at=NOW),
    )
    timeline = fold_events(reversed(events))  # order does not matter
    assert timeline.status is CallStatus.ANSWERED
    assert timeline.total_seconds == 47
    assert timeline.talk_seconds == 38
    assert len(timeline.recording_urls) == 1


def test_a_completed_call_whose_dial_was_not_answered_is_missed() -> None:
    completed = {**fixture("status_completed"), "CallDuration": "25"}
    events = _all_events(
        twilio.voice_events(fixture("voice_inbound"), received_at=NOW),
        twilio.dial_events(fixture("dial_no_answer"), received_at=NOW),
        twilio.status_events(completed, received_at=NOW),
    )
    timeline = fold_events(events)
    assert timeline.status is CallStatus.MISSED
    assert timeline.talk_seconds == 0
    assert timeline.needs_callback


# --- TwiML --------------------------------------------------------------------------------


def test_forwarding_twiml_dials_the_line_with_recording_and_callbacks() -> None:
    xml = twilio.forward_twiml(
        "+380501234567",
        caller="+380671234567",
        action_url="https://ct.example/hooks/twilio/dial-done",
        recording_callback_url="https://ct.example/hooks/twilio/recording",
    )
    root = parse_twiml(xml)
    assert root.tag == "Response"
    [dial] = list(root)
    assert dial.tag == "Dial"
    assert dial.attrib == {
        "action": "https://ct.example/hooks/twilio/dial-done",
        "method": "POST",
        "timeout": "30",
        "callerId": "+380671234567",
        "answerOnBridge": "true",
        "record": "record-from-answer-dual",
        "recordingStatusCallback": "https://ct.example/hooks/twilio/recording",
        "recordingStatusCallbackMethod": "POST",
        "recordingStatusCallbackEvent": "completed",
    }
    [number] = list(dial)
    assert (number.tag, number.text) == ("Number", "+380501234567")


@pytest.mark.parametrize("caller", [None, "", "anonymous", "client:alice", "+"])
def test_a_caller_id_twilio_would_reject_is_left_out(caller: str | None) -> None:
    xml = twilio.forward_twiml(
        "+380501234567", caller=caller, action_url="https://a", recording_callback_url="https://b"
    )
    assert "callerId" not in parse_twiml(xml)[0].attrib


def test_unrouted_twiml_says_sorry_and_hangs_up() -> None:
    root = parse_twiml(twilio.unrouted_twiml())
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == twilio.UNROUTED_MESSAGE


def test_the_dial_action_answer_hangs_up() -> None:
    assert [child.tag for child in parse_twiml(twilio.hangup_twiml())] == ["Hangup"]


# --- the docs keep up ---------------------------------------------------------------------

DOCS = Path(__file__).parents[2] / "docs" / "telephony" / "twilio.md"


@pytest.mark.parametrize(
    "status",
    sorted({*twilio.STARTING_STATUSES, "in-progress", *twilio.ENDING_OUTCOMES}),
)
def test_every_call_status_is_documented(status: str) -> None:
    assert f"`{status}`" in DOCS.read_text()


@pytest.mark.parametrize("status", sorted(twilio.DIAL_OUTCOMES))
def test_every_dial_status_is_documented(status: str) -> None:
    assert f"`{status}`" in DOCS.read_text()


@pytest.mark.parametrize("path", ["voice", "status", "dial-done", "recording"])
def test_every_webhook_is_documented(path: str) -> None:
    assert f"/hooks/twilio/{path}" in DOCS.read_text()
