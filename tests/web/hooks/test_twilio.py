"""Twilio's webhooks end to end: signed requests in, TwiML out, one call per Twilio call.

Requests are signed with the official library's RequestValidator, over the URL Twilio would
have called, from the recorded callbacks in tests/telephony/fixtures.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.storage.models import Call, CallEvent, Recording, TelephonyAccount, TrackingNumber
from tests.conftest import World

FIXTURES = Path(__file__).parents[2] / "telephony" / "fixtures"
TOKEN = "twilio-auth-token-for-tests"
TRACKING = "+380443334455"
CALLER = "+380671234567"
LINE = "+380501234567"
MAIN = "+380441112233"
BASE = "http://testserver"


def fixture(name: str, **changes: str) -> dict[str, str]:
    body = (FIXTURES / f"twilio_{name}.txt").read_text().strip()
    return {**dict(parse_qsl(body, keep_blank_values=True)), **changes}


ACCOUNT_SID = fixture("voice_inbound")["AccountSid"]
CALL_SID = fixture("voice_inbound")["CallSid"]


def parse_twiml(response: Response) -> ET.Element:
    """Our own TwiML answer as XML (trusted input: the stdlib parser is fine)."""
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)  # noqa: S314


@pytest.fixture
def account(db: Session, world: World) -> TelephonyAccount:
    """Our project's Twilio account, main number and one tracking number with its own line."""
    project = world.ours.project
    project.main_number = MAIN
    row = TelephonyAccount(
        project_id=project.id,
        provider="twilio",
        account_ref=ACCOUNT_SID,
        secret=TOKEN,
        config={},
        is_active=True,
    )
    db.add(row)
    db.add(
        TrackingNumber(
            project_id=project.id, e164=TRACKING, kind="static", source="flyer", forward_to=LINE
        )
    )
    db.commit()
    return row


def post(
    client: TestClient,
    path: str,
    form: dict[str, str],
    *,
    token: str = TOKEN,
    signed_url: str | None = None,
    sent: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """POST `sent` (default `form`) to `path`, signed over `signed_url` and `form`."""
    signature = RequestValidator(token).compute_signature(signed_url or BASE + path, form)
    all_headers = {"X-Twilio-Signature": signature, **(headers or {})}
    return client.post(path, data=sent if sent is not None else form, headers=all_headers)


def calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).order_by(Call.id)))


def at(seconds: int) -> str:
    """A Twilio Timestamp `seconds` after a start a minute ago."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return format_datetime(start + timedelta(seconds=seconds))


# --- the voice webhook --------------------------------------------------------------------


@pytest.mark.usefixtures("account")
def test_a_call_is_forwarded_to_the_numbers_line_with_recording_and_callbacks(
    client: TestClient,
) -> None:
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound"))
    assert response.status_code == 200
    root = parse_twiml(response)
    [dial] = list(root)
    assert dial.tag == "Dial"
    assert dial.attrib["callerId"] == CALLER
    assert dial.attrib["answerOnBridge"] == "true"
    assert dial.attrib["record"] == "record-from-answer-dual"
    assert dial.attrib["action"] == f"{BASE}/hooks/twilio/dial-done"
    assert dial.attrib["recordingStatusCallback"] == f"{BASE}/hooks/twilio/recording"
    assert int(dial.attrib["timeout"]) > 0
    assert [(n.tag, n.text) for n in dial] == [("Number", LINE)]


@pytest.mark.usefixtures("account")
def test_the_voice_webhook_starts_the_call(client: TestClient, db: Session, world: World) -> None:
    post(client, "/hooks/twilio/voice", fixture("voice_inbound"))
    [call] = calls(db)
    assert call.project_id == world.ours.project.id
    assert (call.provider, call.provider_call_id) == ("twilio", CALL_SID)
    assert (call.dialled_e164, call.caller_e164, call.forwarded_to) == (TRACKING, CALLER, LINE)
    assert call.status == "in_progress"


@pytest.mark.usefixtures("account")
def test_an_unknown_number_rings_the_main_number(client: TestClient) -> None:
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound", To="+380443334400"))
    assert response.status_code == 200
    [dial] = list(parse_twiml(response))
    assert [n.text for n in dial] == [MAIN]


@pytest.mark.usefixtures("account")
def test_a_number_that_is_not_a_phone_number_rings_the_main_number(client: TestClient) -> None:
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound", To="client:alice"))
    [dial] = list(parse_twiml(response))
    assert [n.text for n in dial] == [MAIN]


def test_another_projects_number_never_rings_its_line(
    client: TestClient, db: Session, world: World, account: TelephonyAccount
) -> None:
    db.add(
        TrackingNumber(
            project_id=world.outsider.project.id,
            e164="+380443334466",
            kind="static",
            forward_to="+380509998877",
        )
    )
    db.commit()
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound", To="+380443334466"))
    [dial] = list(parse_twiml(response))
    assert [n.text for n in dial] == [MAIN]
    assert {call.project_id for call in calls(db)} == {world.ours.project.id}


@pytest.mark.parametrize("outsider_first", [True, False], ids=["outsider-first", "ours-first"])
def test_an_account_sid_claimed_by_another_tenant_never_takes_its_webhooks(
    client: TestClient, db: Session, world: World, outsider_first: bool
) -> None:
    """Whoever claims the AccountSid first, its calls go to the project whose stored auth token
    signs them; a tenant who typed someone else's AccountSid gets nothing and blocks nothing."""
    claims = [
        (world.outsider, {"account_ref": ACCOUNT_SID, "secret": "a-token-twilio-never-used"}),
        (world.ours, {"account_ref": ACCOUNT_SID, "secret": TOKEN}),
    ]
    for tenant, body in claims if outsider_first else claims[::-1]:
        url = f"/api/v1/projects/{tenant.project.id}/telephony/twilio"
        claimed = client.put(url, headers=tenant.project_auth, json=body)
        assert claimed.status_code == 201, claimed.text
    db.add(
        TrackingNumber(
            project_id=world.ours.project.id,
            e164=TRACKING,
            kind="static",
            source="flyer",
            forward_to=LINE,
        )
    )
    db.commit()
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound"))
    assert response.status_code == 200
    [dial] = list(parse_twiml(response))
    assert [n.text for n in dial] == [LINE]
    assert [call.project_id for call in calls(db)] == [world.ours.project.id]
    forged = post(client, "/hooks/twilio/voice", fixture("voice_inbound"), token="guess")
    assert forged.status_code == 403


def test_with_nowhere_to_go_the_caller_hears_a_message(
    client: TestClient, db: Session, world: World, account: TelephonyAccount
) -> None:
    world.ours.project.main_number = None
    db.commit()
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound", To="+380443334400"))
    assert response.status_code == 200
    assert [child.tag for child in parse_twiml(response)] == ["Say", "Hangup"]


@pytest.mark.usefixtures("account")
def test_an_anonymous_caller_is_forwarded_without_a_caller_id(client: TestClient) -> None:
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound", From="anonymous"))
    [dial] = list(parse_twiml(response))
    assert "callerId" not in dial.attrib
    assert [n.text for n in dial] == [LINE]


# --- signatures ---------------------------------------------------------------------------

PATHS = {
    "/hooks/twilio/voice": "voice_inbound",
    "/hooks/twilio/status": "status_completed",
    "/hooks/twilio/dial-done": "dial_completed",
    "/hooks/twilio/recording": "recording_completed",
}


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize("path", PATHS)
def test_a_wrong_signature_is_refused(client: TestClient, db: Session, path: str) -> None:
    response = post(client, path, fixture(PATHS[path]), token="not-the-token")
    assert response.status_code == 403
    assert calls(db) == []


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize("path", PATHS)
def test_a_missing_signature_is_refused(client: TestClient, db: Session, path: str) -> None:
    response = client.post(path, data=fixture(PATHS[path]))
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["detail"]
    assert calls(db) == []


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize("path", PATHS)
def test_a_replay_with_altered_fields_is_refused(
    client: TestClient, db: Session, path: str
) -> None:
    genuine = fixture(PATHS[path])
    altered = {**genuine, "From": "+380679999999", "CallDuration": "9999"}
    response = post(client, path, genuine, sent=altered)
    assert response.status_code == 403
    assert calls(db) == []


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_account_is_refused(client: TestClient, db: Session, path: str) -> None:
    form = fixture(PATHS[path], AccountSid="AC00000000000000000000000000000000")
    response = post(client, path, form)
    assert response.status_code == 403
    assert calls(db) == []


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_account_and_a_wrong_signature_get_the_same_answer(
    client: TestClient, path: str
) -> None:
    """Nobody can tell from the answer which AccountSids this installation knows."""
    unknown = fixture(PATHS[path], AccountSid="AC00000000000000000000000000000000")
    refused_unknown = post(client, path, unknown, token="not-the-token")
    refused_known = post(client, path, fixture(PATHS[path]), token="not-the-token")

    assert refused_unknown.status_code == refused_known.status_code == 403
    assert refused_unknown.json() == refused_known.json()


def test_an_inactive_account_is_refused(
    client: TestClient, db: Session, account: TelephonyAccount
) -> None:
    account.is_active = False
    db.commit()
    assert post(client, "/hooks/twilio/voice", fixture("voice_inbound")).status_code == 403


def test_an_account_without_a_token_is_refused(
    client: TestClient, db: Session, account: TelephonyAccount
) -> None:
    account.secret = None
    db.commit()
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound"), token="")
    assert response.status_code == 403


@pytest.mark.usefixtures("account")
def test_a_request_without_an_account_sid_is_refused(client: TestClient) -> None:
    form = fixture("voice_inbound")
    del form["AccountSid"]
    assert post(client, "/hooks/twilio/voice", form).status_code == 403


# --- the public URL behind a reverse proxy ------------------------------------------------


@pytest.mark.usefixtures("account")
def test_behind_a_proxy_the_forwarded_url_is_verified_and_used(client: TestClient) -> None:
    public = "https://calls.example.com/hooks/twilio/voice"
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "calls.example.com"}
    form = fixture("voice_inbound")
    response = post(client, "/hooks/twilio/voice", form, signed_url=public, headers=proxy)
    assert response.status_code == 200
    [dial] = list(parse_twiml(response))
    assert dial.attrib["action"] == "https://calls.example.com/hooks/twilio/dial-done"
    # Without the proxy's headers the same signature is for another URL.
    assert post(client, "/hooks/twilio/voice", form, signed_url=public).status_code == 403


@pytest.mark.usefixtures("account")
def test_the_first_proxy_in_a_chain_names_the_public_url(client: TestClient) -> None:
    public = "https://calls.example.com/hooks/twilio/voice"
    proxy = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "calls.example.com, lb"}
    response = post(
        client, "/hooks/twilio/voice", fixture("voice_inbound"), signed_url=public, headers=proxy
    )
    assert response.status_code == 200


@pytest.mark.usefixtures("account")
def test_the_public_url_setting_wins_and_keeps_the_query(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "public_url", "https://ct.example/ringtrail/")
    signed = "https://ct.example/ringtrail/hooks/twilio/voice?site=main"
    proxy = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "internal:8000"}
    response = post(
        client,
        "/hooks/twilio/voice?site=main",
        fixture("voice_inbound"),
        signed_url=signed,
        headers=proxy,
    )
    assert response.status_code == 200
    [dial] = list(parse_twiml(response))
    assert dial.attrib["action"] == "https://ct.example/ringtrail/hooks/twilio/dial-done"
    assert dial.attrib["recordingStatusCallback"] == (
        "https://ct.example/ringtrail/hooks/twilio/recording"
    )


# --- whole calls --------------------------------------------------------------------------


def answered_call(client: TestClient) -> list[Response]:
    """The callbacks of a call the business answered, in the order Twilio sends them."""
    return [
        post(client, "/hooks/twilio/voice", fixture("voice_inbound")),
        post(client, "/hooks/twilio/status", fixture("status_ringing", Timestamp=at(0))),
        post(client, "/hooks/twilio/status", fixture("status_in_progress", Timestamp=at(7))),
        post(client, "/hooks/twilio/dial-done", fixture("dial_completed")),
        post(client, "/hooks/twilio/status", fixture("status_completed", Timestamp=at(47))),
        post(client, "/hooks/twilio/recording", fixture("recording_completed")),
    ]


@pytest.mark.usefixtures("account")
def test_an_answered_call_has_its_talk_and_total_time_and_recording(
    client: TestClient, db: Session, world: World
) -> None:
    responses = answered_call(client)
    assert [r.status_code for r in responses] == [200, 204, 204, 200, 204, 204]
    [call] = calls(db)
    assert call.project_id == world.ours.project.id
    assert call.status == "answered"
    assert call.duration_seconds == 47
    assert call.talk_seconds == 38
    assert call.forwarded_to == LINE
    assert not call.needs_callback
    [recording] = db.scalars(select(Recording).where(Recording.call_id == call.id))
    assert recording.provider_url == fixture("recording_completed")["RecordingUrl"] + ".wav"
    assert recording.duration_seconds == 38


@pytest.mark.usefixtures("account")
def test_a_call_nobody_answered_is_missed(client: TestClient, db: Session) -> None:
    post(client, "/hooks/twilio/voice", fixture("voice_inbound"))
    post(client, "/hooks/twilio/status", fixture("status_ringing", Timestamp=at(0)))
    dial = post(client, "/hooks/twilio/dial-done", fixture("dial_no_answer"))
    assert [child.tag for child in parse_twiml(dial)] == ["Hangup"]
    completed = fixture("status_completed", Timestamp=at(31), CallDuration="31")
    assert post(client, "/hooks/twilio/status", completed).status_code == 204
    [call] = calls(db)
    assert call.status == "missed"
    assert call.talk_seconds == 0
    assert call.needs_callback


def test_a_call_with_nowhere_to_go_is_missed_not_answered(
    client: TestClient, db: Session, world: World, account: TelephonyAccount
) -> None:
    world.ours.project.main_number = None
    db.commit()
    unknown = "+380443334400"
    post(client, "/hooks/twilio/voice", fixture("voice_inbound", To=unknown))
    # Twilio answers the call itself to read the message.
    in_progress = fixture("status_in_progress", To=unknown, Timestamp=at(1))
    post(client, "/hooks/twilio/status", in_progress)
    completed = fixture("status_completed", To=unknown, Timestamp=at(9), CallDuration="8")
    post(client, "/hooks/twilio/status", completed)
    [call] = calls(db)
    assert call.status == "missed"
    assert call.needs_callback


@pytest.mark.usefixtures("account")
def test_a_status_callback_delivered_five_times_counts_once(
    client: TestClient, db: Session
) -> None:
    answered_call(client)
    completed = fixture("status_completed", Timestamp=at(47))
    for _ in range(5):
        assert post(client, "/hooks/twilio/status", completed).status_code == 204
    [call] = calls(db)
    assert (call.status, call.duration_seconds, call.talk_seconds) == ("answered", 47, 38)
    key = f"twilio:{CALL_SID}:ended:status-completed"
    assert db.scalar(select(func.count()).where(CallEvent.dedupe_key == key)) == 1
    assert db.scalar(select(func.count()).select_from(Recording)) == 1


@pytest.mark.usefixtures("account")
def test_events_in_any_order_give_the_same_call(client: TestClient, db: Session) -> None:
    for response in reversed(answered_call(client)):
        assert response.status_code in (200, 204)
    [call] = calls(db)
    assert (call.status, call.duration_seconds, call.talk_seconds) == ("answered", 47, 38)


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize(
    ("path", "form", "reason"),
    [
        ("/hooks/twilio/status", fixture("status_completed", CallStatus=""), "CallStatus"),
        ("/hooks/twilio/status", fixture("status_completed", CallDuration="x"), "CallDuration"),
        ("/hooks/twilio/status", fixture("status_completed", Timestamp="soon"), "Timestamp"),
        ("/hooks/twilio/dial-done", fixture("dial_completed", DialCallStatus=""), "DialCall"),
        ("/hooks/twilio/recording", fixture("recording_completed", CallSid=""), "CallSid"),
    ],
)
def test_a_malformed_callback_is_answered_400_with_the_reason(
    client: TestClient, db: Session, path: str, form: dict[str, str], reason: str
) -> None:
    response = post(client, path, form)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert calls(db) == []


# --- the database is down -----------------------------------------------------------------


def _database_down(*_args: Any, **_kwargs: Any) -> Any:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.mark.usefixtures("account")
def test_a_caller_is_forwarded_when_the_call_cannot_be_stored(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CallIngestion, "ingest_many", _database_down)
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound"))
    assert response.status_code == 200
    [dial] = list(parse_twiml(response))
    assert [n.text for n in dial] == [LINE]
    assert calls(db) == []


@pytest.mark.usefixtures("account")
def test_a_caller_is_forwarded_by_the_last_known_route_while_the_database_is_down(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(client, "/hooks/twilio/voice", fixture("voice_inbound")).status_code == 200
    monkeypatch.setattr(runtime, "sessions", _database_down)
    again = fixture("voice_inbound", CallSid="CA" + "1" * 32, From="+380671112233")
    response = post(client, "/hooks/twilio/voice", again)
    assert response.status_code == 200
    [dial] = list(parse_twiml(response))
    assert [n.text for n in dial] == [LINE]
    # The remembered token still guards the door.
    assert post(client, "/hooks/twilio/voice", again, token="forged").status_code == 403


@pytest.mark.usefixtures("account")
def test_a_first_call_while_the_database_is_down_goes_to_twilios_fallback(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "sessions", _database_down)
    response = post(client, "/hooks/twilio/voice", fixture("voice_inbound"))
    assert response.status_code == 503


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/hooks/twilio/status", "status_completed"),
        ("/hooks/twilio/recording", "recording_completed"),
    ],
)
def test_events_are_answered_503_while_the_database_is_down(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, path: str, name: str
) -> None:
    monkeypatch.setattr(CallIngestion, "ingest_many", _database_down)
    response = post(client, path, fixture(name))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    monkeypatch.setattr(runtime, "sessions", _database_down)
    assert post(client, path, fixture(name)).status_code == 503


@pytest.mark.usefixtures("account")
def test_the_dial_action_still_hangs_up_while_the_database_is_down(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CallIngestion, "ingest_many", _database_down)
    response = post(client, "/hooks/twilio/dial-done", fixture("dial_completed"))
    assert [child.tag for child in parse_twiml(response)] == ["Hangup"]
    monkeypatch.setattr(runtime, "sessions", _database_down)
    response = post(client, "/hooks/twilio/dial-done", fixture("dial_completed"))
    assert [child.tag for child in parse_twiml(response)] == ["Hangup"]
