"""Calling back end to end, against a local server that speaks Twilio's REST API.

The widget's request places a call to the business line through the `twilio` library (its
base URL pointed at tests/twilio_stub.py); the test then plays Twilio's part: status
callbacks of the business leg, the customer's <Number> and the Dial action, signed as
Twilio signs them. Each attempt must end as an outbound call linked to the lead with the
right outcome, talk time and seconds to connect.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.callback_calls import place_due_callbacks
from ringtrail.storage.models import Call, CallbackRequest, Lead, Recording
from ringtrail.telephony.twilio_outbound import TwilioRestCaller
from tests.callback_fixtures import (  # noqa: F401 (fixtures)
    ACCOUNT_SID,
    BUSINESS,
    CUSTOMER,
    FROM_NUMBER,
    add_twilio_account,
    ask,
    enable_widget,
    settings_fixture,
    signed_post,
    twilio_stub_fixture,
)
from tests.conftest import World
from tests.twilio_stub import TwilioStub

CHILD_SID = "CA" + "c" * 32


@pytest.fixture
def key(db: Session, world: World) -> str:
    project = world.ours.project
    add_twilio_account(db, project)
    enable_widget(db, project)
    return project.public_key


def request_row(db: Session) -> CallbackRequest:
    db.expire_all()
    rows = db.scalars(select(CallbackRequest)).all()
    assert len(rows) == 1
    return rows[0]


def outbound_calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).where(Call.direction == "outbound").order_by(Call.id)))


def stamp(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def business(client: TestClient, sid: str, status: str, **extra: str) -> Any:
    form = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "CallStatus": status,
        "Direction": "outbound-api",
        "From": FROM_NUMBER,
        "To": BUSINESS,
        **extra,
    }
    return signed_post(client, "/hooks/twilio/callback/status", form)


def customer_answers(client: TestClient, sid: str, moment: datetime) -> Any:
    form = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CHILD_SID,
        "ParentCallSid": sid,
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
        "To": CUSTOMER,
        "Timestamp": stamp(moment),
    }
    return signed_post(client, "/hooks/twilio/callback/customer-status", form)


def dial_done(client: TestClient, sid: str, status: str, **extra: str) -> Any:
    form = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "DialCallSid": CHILD_SID,
        "DialCallStatus": status,
        **extra,
    }
    return signed_post(client, "/hooks/twilio/callback/dial-done", form)


def test_the_request_places_a_call_to_the_business_that_then_rings_the_customer(
    client: TestClient, db: Session, key: str, twilio_stub: TwilioStub
) -> None:
    answer = ask(client, key, "050 123 4567", lang="uk")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "calling"
    assert "Телефонуємо" in answer.json()["message"]

    [created] = twilio_stub.calls
    assert created.field("To") == BUSINESS
    assert created.field("From") == FROM_NUMBER
    assert created.field("StatusCallback") == "http://testserver/hooks/twilio/callback/status"
    assert sorted(created.form["StatusCallbackEvent"]) == [
        "answered",
        "completed",
        "initiated",
        "ringing",
    ]
    twiml = ET.fromstring(created.field("Twiml"))  # noqa: S314 (our own TwiML)
    say = twiml.find("Say")
    assert say is not None and say.get("language") == "uk-UA"
    assert "3 8 0 5 0 1 2 3 4 5 6 7" in (say.text or "")
    dial = twiml.find("Dial")
    assert dial is not None and dial.get("action", "").endswith("/hooks/twilio/callback/dial-done")
    assert dial.get("record") == "record-from-answer-dual"
    number = dial.find("Number")
    assert number is not None and number.text == CUSTOMER
    assert number.get("statusCallback", "").endswith("/hooks/twilio/callback/customer-status")

    [call] = outbound_calls(db)
    request = request_row(db)
    lead = db.get(Lead, request.lead_id)
    assert lead is not None and lead.kind == "callback" and lead.phone_e164 == CUSTOMER
    assert call.provider_call_id == created.sid
    assert call.lead_id == lead.id
    assert (call.dialled_e164, call.forwarded_to, call.status) == (
        CUSTOMER,
        BUSINESS,
        "in_progress",
    )
    assert request.status == "calling" and request.call_id == call.id


def test_business_answers_then_customer_answers_is_connected_with_talk_and_time_to_connect(
    client: TestClient, db: Session, key: str, twilio_stub: TwilioStub
) -> None:
    assert ask(client, key).status_code == 200
    sid = twilio_stub.calls[0].sid
    requested = request_row(db).requested_at
    answered = (requested + timedelta(seconds=9)).replace(microsecond=0)  # whole seconds
    expected = round((answered - requested).total_seconds())

    assert business(client, sid, "ringing").status_code == 204
    assert business(client, sid, "in-progress").status_code == 204
    assert customer_answers(client, sid, answered).status_code == 204
    hangup = dial_done(
        client,
        sid,
        "completed",
        DialCallDuration="42",
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE1",
        RecordingSid="RE1",
        RecordingDuration="42",
    )
    assert hangup.status_code == 200 and "<Hangup" in hangup.text
    assert business(client, sid, "completed", CallDuration="60").status_code == 204

    [call] = outbound_calls(db)
    assert call.status == "answered"
    assert call.talk_seconds == 42 and call.duration_seconds == 60
    assert call.snapshot["callback"]["outcome"] == "connected"
    assert call.snapshot["callback"]["seconds_to_connect"] == expected in (8, 9)
    request = request_row(db)
    assert request.status == "connected"
    assert request.seconds_to_connect == expected and request.talk_seconds == 42
    assert call.answered_at == answered
    [recording] = db.scalars(select(Recording).where(Recording.call_id == call.id)).all()
    assert recording.status == "pending" and recording.provider_url.endswith("/RE1.wav")


def test_business_does_not_answer(
    client: TestClient, db: Session, key: str, twilio_stub: TwilioStub
) -> None:
    assert ask(client, key).status_code == 200
    sid = twilio_stub.calls[0].sid
    business(client, sid, "ringing")
    assert business(client, sid, "no-answer").status_code == 204

    [call] = outbound_calls(db)
    assert call.status == "missed" and call.talk_seconds == 0
    assert call.snapshot["callback"]["outcome"] == "business_no_answer"
    request = request_row(db)
    assert (request.status, request.last_outcome) == ("unreached", "business_no_answer")
    assert request.seconds_to_connect is None


def test_customer_does_not_answer(
    client: TestClient, db: Session, key: str, twilio_stub: TwilioStub
) -> None:
    assert ask(client, key).status_code == 200
    sid = twilio_stub.calls[0].sid
    business(client, sid, "in-progress")
    dial_done(client, sid, "no-answer", DialCallDuration="0")
    business(client, sid, "completed", CallDuration="35")

    [call] = outbound_calls(db)
    assert call.status == "missed" and call.talk_seconds == 0
    assert call.snapshot["callback"]["outcome"] == "customer_no_answer"
    request = request_row(db)
    assert (request.status, request.last_outcome) == ("unreached", "customer_no_answer")


def test_an_unanswered_attempt_is_tried_again_later_as_a_second_outbound_call(
    client: TestClient, db: Session, world: World, runtime: Runtime, twilio_stub: TwilioStub
) -> None:
    project = world.ours.project
    add_twilio_account(db, project)
    enable_widget(db, project, max_attempts=2, retry_minutes=5)
    assert ask(client, project.public_key).status_code == 200
    business(client, twilio_stub.calls[0].sid, "busy")
    request = request_row(db)
    assert request.status == "waiting" and request.attempts == 1
    assert request.due_at is not None

    caller = TwilioRestCaller(twilio_stub.base_url)
    early = place_due_callbacks(
        runtime.sessions, caller, "http://testserver", request.due_at - timedelta(seconds=1)
    )
    assert early.placed == 0
    later = place_due_callbacks(runtime.sessions, caller, "http://testserver", request.due_at)
    assert later.placed == 1
    calls = outbound_calls(db)
    assert len(calls) == 2 and {c.lead_id for c in calls} == {request.lead_id}
    assert request_row(db).attempts == 2


def test_a_callback_not_signed_with_the_projects_token_changes_nothing(
    client: TestClient, db: Session, key: str, twilio_stub: TwilioStub
) -> None:
    assert ask(client, key).status_code == 200
    sid = twilio_stub.calls[0].sid
    form = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "CallStatus": "no-answer"}
    forged = client.post(
        "/hooks/twilio/callback/status", data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}
    )
    assert forged.status_code == 403
    unknown = business(client, "CA" + "f" * 32, "no-answer")
    assert unknown.status_code == 403
    assert request_row(db).status == "calling"


def test_twilio_unavailable_puts_the_request_back_and_a_refusal_ends_the_attempt(
    client: TestClient, db: Session, key: str, runtime: Runtime, twilio_stub: TwilioStub
) -> None:
    twilio_stub.fail_next = (503, 20500)
    assert ask(client, key).status_code == 200
    request = request_row(db)
    assert (request.status, request.attempts) == ("waiting", 0)
    assert "503" in (request.last_error or "")
    assert not outbound_calls(db)

    twilio_stub.fail_next = (400, 21211)
    caller = TwilioRestCaller(twilio_stub.base_url)
    assert request.due_at is not None
    report = place_due_callbacks(runtime.sessions, caller, "http://testserver", request.due_at)
    assert report.failed == 1
    request = request_row(db)
    assert (request.status, request.last_outcome) == ("unreached", "failed")
    assert "21211" in (request.last_error or "")


def test_a_call_that_never_reports_back_is_settled_as_failed(
    client: TestClient, db: Session, key: str, runtime: Runtime, twilio_stub: TwilioStub
) -> None:
    assert ask(client, key).status_code == 200
    caller = TwilioRestCaller(twilio_stub.base_url)
    later = datetime.now(UTC) + timedelta(hours=1)
    report = place_due_callbacks(runtime.sessions, caller, "http://testserver", later)
    assert report.settled_stale == 1
    [call] = outbound_calls(db)
    assert call.status == "failed"
    assert request_row(db).status == "unreached"
