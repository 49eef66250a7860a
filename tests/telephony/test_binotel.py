"""Binotel API CALL COMPLETED: the nested form, a completed call as events, sender addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from ringtrail.domain.calls import CallEventKind, CallOutcome, CallStatus, fold_events
from ringtrail.telephony import binotel
from ringtrail.telephony.errors import InvalidPayload

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_pairs(name: str) -> list[tuple[str, str]]:
    """A recorded-shape Binotel body as (key, value) pairs, the way a form parser yields them."""
    body = (FIXTURES / f"{name}.txt").read_text().strip()
    return parse_qsl(body, keep_blank_values=True)


def fixture(name: str) -> dict[str, Any]:
    return binotel.parse_nested_form(fixture_pairs(name))


def with_details(name: str, **changes: str) -> dict[str, Any]:
    data = fixture(name)
    data["callDetails"].update(changes)
    return data


def test_nested_keys_become_dicts_and_indexed_levels_lists() -> None:
    data = fixture("binotel_call_completed_tracking")
    details = data["callDetails"]
    assert data["requestType"] == "apiCallCompleted"
    assert details["generalCallID"] == "612107649"
    assert details["dstNumbers"][0]["disposition"] == "BUSY"
    assert details["dstNumbers"][1] == {
        "dstNumber": "801 > 902",
        "waitsec": "21",
        "billsec": "0",
        "disposition": "NOANSWER",
    }
    assert details["callTrackingData"]["utm_source"] == "google"
    assert details["callTrackingData"]["gaClientId"] == "1382483615.1522331416"


def test_empty_brackets_append() -> None:
    data = binotel.parse_nested_form([("a[]", "x"), ("a[]", "y"), ("b", "z")])
    assert data == {"a": ["x", "y"], "b": "z"}


def test_index_order_is_numeric() -> None:
    pairs = [(f"l[{i}]", str(i)) for i in (10, 2, 0, 1)]
    assert binotel.parse_nested_form(pairs) == {"l": ["0", "1", "2", "10"]}


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", "1"), ("a[b]", "2")],
        [("a[b]", "2"), ("a", "1")],
        [("a[b", "1")],
        [("[b]", "1")],
        [("a" + "[x]" * 10, "1")],
    ],
)
def test_conflicting_or_malformed_keys_are_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidPayload):
        binotel.parse_nested_form(pairs)


def test_answered_call_gives_started_answered_ended_and_recording() -> None:
    events = binotel.parse_call_completed(fixture("binotel_call_completed_answered"))
    kinds = [e.kind for e in events]
    assert kinds == [
        CallEventKind.STARTED,
        CallEventKind.ANSWERED,
        CallEventKind.ENDED,
        CallEventKind.RECORDING_READY,
    ]
    started, answered, ended, recording = events
    start = datetime.fromtimestamp(1702107076, tz=UTC)
    assert {e.provider_call_id for e in events} == {"4683310794"}
    assert {e.provider for e in events} == {"binotel"}
    assert started.occurred_at == start
    assert started.dialled == "0442230101"  # pbxNumberData[number]
    assert started.caller == "0990000198"
    assert answered.occurred_at == start + timedelta(seconds=13)
    assert answered.forwarded_to == "901"
    assert ended.occurred_at == start + timedelta(seconds=30)
    assert ended.outcome is CallOutcome.ANSWERED
    assert (ended.total_seconds, ended.talk_seconds) == (30, 17)
    # The audio comes from Binotel's API by the call's id; the cabinet link stays for people.
    assert recording.recording_url == "binotel-record:4683310794"
    assert binotel.recording_link(recording.payload["callDetails"]).startswith(
        "https://my.binotel.ua/?module=cdrs"
    )
    assert len({e.dedupe_key for e in events}) == 4


def test_answered_call_folds_to_answered_with_durations() -> None:
    timeline = fold_events(binotel.parse_call_completed(fixture("binotel_call_completed_answered")))
    assert timeline.status is CallStatus.ANSWERED
    assert (timeline.total_seconds, timeline.talk_seconds) == (30, 17)


def test_missed_tracking_call_keeps_binotels_tracking_data() -> None:
    events = binotel.parse_call_completed(fixture("binotel_call_completed_tracking"))
    assert [e.kind for e in events] == [CallEventKind.STARTED, CallEventKind.ENDED]
    started, ended = events
    assert started.dialled == "0672190093"  # did
    assert ended.outcome is CallOutcome.NO_ANSWER
    assert (ended.total_seconds, ended.talk_seconds) == (21, 0)
    tracking = started.payload["callDetails"]["callTrackingData"]
    assert tracking["utm_campaign"] == "spring"
    assert tracking["fullUrl"].startswith("https://clinic.example/")
    assert fold_events(events).status is CallStatus.MISSED


def test_redelivery_gives_the_same_dedupe_keys() -> None:
    first = binotel.parse_call_completed(fixture("binotel_call_completed_answered"))
    retry = fixture("binotel_call_completed_answered")
    retry["attemptsCounter"] = "4"
    again = binotel.parse_call_completed(retry)
    assert [e.dedupe_key for e in first] == [e.dedupe_key for e in again]


@pytest.mark.parametrize(
    ("disposition", "outcome"),
    [
        ("ANSWER", CallOutcome.ANSWERED),
        ("TRANSFER", CallOutcome.ANSWERED),
        ("BUSY", CallOutcome.BUSY),
        ("NOANSWER", CallOutcome.NO_ANSWER),
        ("NO ANSWER", CallOutcome.NO_ANSWER),
        ("CANCEL", CallOutcome.CANCELED),
        ("CHANUNAVAIL", CallOutcome.FAILED),
        ("CONGESTION", CallOutcome.FAILED),
        ("FAILED", CallOutcome.FAILED),
        ("VM", CallOutcome.NO_ANSWER),
        ("VM-SUCCESS", CallOutcome.NO_ANSWER),
        ("SOMETHING-NEW", None),
    ],
)
def test_disposition_maps_to_outcome(disposition: str, outcome: CallOutcome | None) -> None:
    data = with_details("binotel_call_completed_tracking", disposition=disposition)
    ended = next(e for e in binotel.parse_call_completed(data) if e.kind is CallEventKind.ENDED)
    assert ended.outcome is outcome


def test_voicemail_with_a_message_is_not_an_answered_call() -> None:
    data = with_details("binotel_call_completed_answered", disposition="VM-SUCCESS", billsec="25")
    events = binotel.parse_call_completed(data)
    assert CallEventKind.ANSWERED not in [e.kind for e in events]
    assert fold_events(events).status is CallStatus.MISSED


def test_billsec_with_unknown_disposition_counts_as_answered() -> None:
    data = with_details("binotel_call_completed_answered", disposition="ONLINE-ISH")
    events = binotel.parse_call_completed(data)
    assert CallEventKind.ANSWERED in [e.kind for e in events]
    assert fold_events(events).status is CallStatus.ANSWERED


def test_busy_call_folds_to_busy() -> None:
    data = with_details("binotel_call_completed_tracking", disposition="BUSY", waitsec="0")
    assert fold_events(binotel.parse_call_completed(data)).status is CallStatus.BUSY


def test_a_recording_is_expected_only_when_uploaded_or_linked() -> None:
    not_uploaded = with_details("binotel_call_completed_answered", recordingStatus="failed")
    unsafe = with_details(
        "binotel_call_completed_answered",
        linkToCallRecordInMyBusiness="javascript:alert(1)",
        recordingStatus="",
    )
    for data in (not_uploaded, unsafe):
        kinds = [e.kind for e in binotel.parse_call_completed(data)]
        assert CallEventKind.RECORDING_READY not in kinds
    uploaded = with_details(
        "binotel_call_completed_answered", linkToCallRecordInMyBusiness="javascript:alert(1)"
    )
    urls = [e.recording_url for e in binotel.parse_call_completed(uploaded) if e.recording_url]
    assert urls == ["binotel-record:4683310794"]  # the link itself is never fetched


def test_outbound_calls_and_other_request_types_give_no_events() -> None:
    assert binotel.parse_call_completed(fixture("binotel_call_completed_outbound")) == []
    assert binotel.parse_call_completed({"requestType": "apiCallSettings"}) == []
    assert binotel.parse_call_completed({"requestType": "receivedTheCall"}) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "requestType"),
        ({"requestType": "apiCallCompleted"}, "callDetails"),
        ({"requestType": "apiCallCompleted", "callDetails": "x"}, "callDetails"),
    ],
)
def test_malformed_request_says_why(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidPayload, match=reason):
        binotel.parse_call_completed(data)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"callType": "2"}, "callType"),
        ({"generalCallID": ""}, "generalCallID"),
        ({"startTime": "yesterday"}, "startTime"),
        ({"startTime": "9" * 30}, "startTime"),
        ({"billsec": "-3"}, "billsec"),
        ({"waitsec": "1.5"}, "waitsec"),
    ],
)
def test_malformed_call_details_say_why(change: dict[str, str], reason: str) -> None:
    data = with_details("binotel_call_completed_answered", **change)
    with pytest.raises(InvalidPayload, match=reason):
        binotel.parse_call_completed(data)


@pytest.mark.parametrize(
    ("address", "allowed", "expected"),
    [
        ("194.88.218.116", binotel.PUBLISHED_SERVER_ADDRESSES, True),
        ("194.88.218.115", binotel.PUBLISHED_SERVER_ADDRESSES, False),
        ("45.91.130.60", ["45.91.130.0/24"], True),
        ("45.91.131.60", ["45.91.130.0/24"], False),
        ("194.88.218.116", [], False),
        ("194.88.218.116", ["not-an-address", "10.0.0.0/8"], False),
        ("::1", ["127.0.0.1"], False),
        ("garbage", ["0.0.0.0/0"], False),
    ],
)
def test_address_allowed(address: str, allowed: list[str], expected: bool) -> None:
    assert binotel.address_allowed(address, allowed) is expected


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    assert binotel.sender_address("203.0.113.9", "194.88.218.116", []) == "203.0.113.9"


def test_forwarded_for_is_believed_from_a_trusted_proxy() -> None:
    proxies = ["10.0.0.0/8"]
    assert binotel.sender_address("10.0.0.2", "194.88.218.116", proxies) == "194.88.218.116"
    # A client-written first hop does not help: the proxy appended the real sender last.
    forged = "194.88.218.116, 203.0.113.9"
    assert binotel.sender_address("10.0.0.2", forged, proxies) == "203.0.113.9"
    # Chained trusted proxies are skipped.
    chain = "194.88.218.116, 10.0.0.7"
    assert binotel.sender_address("10.0.0.2", chain, proxies) == "194.88.218.116"


def test_two_legs_of_a_transfer_fold_into_one_call() -> None:
    first = with_details(
        "binotel_call_completed_answered",
        internalNumber="901",
        waitsec="5",
        billsec="30",
        disposition="TRANSFER",
    )
    second = with_details(
        "binotel_call_completed_answered",
        startTime=str(1702107076 + 35),
        internalNumber="902",
        waitsec="3",
        billsec="60",
        disposition="ANSWER",
    )
    events = binotel.parse_call_completed(first) + binotel.parse_call_completed(second)
    assert len({e.provider_call_id for e in events}) == 1
    assert len({e.dedupe_key for e in events}) == 7  # 3 + 3 per leg, one recording
    timeline = fold_events(events)
    start = datetime.fromtimestamp(1702107076, tz=UTC)
    assert timeline.started_at == start
    assert timeline.ended_at == start + timedelta(seconds=35 + 3 + 60)
    assert (timeline.total_seconds, timeline.talk_seconds) == (98, 90)
    assert timeline.status is CallStatus.ANSWERED
    assert timeline.forwarded_to == "902"
    assert timeline.recording_urls == ("binotel-record:4683310794",)
