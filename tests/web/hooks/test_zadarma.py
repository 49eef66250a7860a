"""Zadarma's webhook end to end: URL check, signed notifications in, one call per PBX call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call, CallEvent, Recording, TelephonyAccount
from ringtrail.telephony.zadarma import sign, signed_text
from tests.conftest import World

SECRET = "test_secret"
NUMBER = "+380441234567"
CALLER = "+380501234567"
CALL_START = "2025-03-10 12:00:00"
# Kyiv is UTC+2 on 10 March 2025 (summer time starts on the 30th).
CALL_START_UTC = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
def account(db: Session, world: World) -> TelephonyAccount:
    """Our project's Zadarma account, and a static tracking number for the flyer."""
    row = TelephonyAccount(
        project_id=world.ours.project.id,
        provider="zadarma",
        account_ref="user-key-1",
        secret=SECRET,
        config={},
        is_active=True,
    )
    db.add(row)
    add_number(db, world.ours.project, {"number": NUMBER, "kind": "static", "source": "flyer"})
    db.commit()
    return row


def url(world: World, key: str | None = None) -> str:
    return f"/hooks/zadarma/{key or world.ours.project.public_key}"


def notification(event: str, call_id: str = "in_e2e_1", **extra: str) -> dict[str, str]:
    base: dict[str, dict[str, str]] = {
        "NOTIFY_START": {"called_did": NUMBER.lstrip("+")},
        "NOTIFY_ANSWER": {"destination": "100", "internal": "100"},
        "NOTIFY_END": {
            "called_did": NUMBER.lstrip("+"),
            "internal": "100",
            "duration": "42",
            "disposition": "answered",
            "status_code": "16",
            "is_recorded": "0",
            "call_id_with_rec": "",
        },
        "NOTIFY_RECORD": {},
    }
    form = {"event": event, "pbx_call_id": call_id, **base[event], **extra}
    if event != "NOTIFY_RECORD":
        form = {"call_start": CALL_START, "caller_id": CALLER, **form}
    return form


def post(
    client: TestClient, world: World, form: dict[str, str], *, secret: str = SECRET, **kw: Any
) -> Any:
    headers = {"Signature": sign(secret, signed_text(form))}
    return client.post(url(world, kw.get("key")), data=form, headers=headers)


def calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).order_by(Call.id)))


def test_zd_echo_is_answered_with_the_bare_value(client: TestClient, world: World) -> None:
    response = client.get(url(world), params={"zd_echo": "a1b2c3"})
    assert response.status_code == 200
    assert response.text == "a1b2c3"
    assert response.headers["content-type"].startswith("text/plain")


def test_zd_echo_needs_a_known_project_and_a_value(client: TestClient, world: World) -> None:
    assert client.get(url(world, "no-such-key"), params={"zd_echo": "x"}).status_code == 404
    assert client.get(url(world)).status_code == 400
    assert client.get(url(world), params={"zd_echo": "x" * 1000}).status_code == 400


def test_signed_start_answer_end_make_one_answered_call(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    for event in ("NOTIFY_START", "NOTIFY_ANSWER", "NOTIFY_END"):
        response = post(client, world, notification(event))
        assert response.status_code == 200, response.text
        assert response.content == b""
    [call] = calls(db)
    assert call.provider == "zadarma"
    assert call.provider_call_id == "in_e2e_1"
    assert call.project_id == world.ours.project.id
    assert call.status == "answered"
    assert call.started_at == CALL_START_UTC
    assert call.talk_seconds == 42
    assert call.duration_seconds == 42
    assert call.dialled_e164 == NUMBER
    assert call.caller_e164 == CALLER
    assert call.attribution_kind == "static"
    assert call.source == "flyer"


def test_end_before_start_still_gives_one_call(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    assert post(client, world, notification("NOTIFY_END")).status_code == 200
    [call] = calls(db)
    assert call.status == "answered"
    assert call.started_at == CALL_START_UTC
    assert post(client, world, notification("NOTIFY_START")).status_code == 200
    [again] = calls(db)
    assert again.id == call.id
    assert again.started_at == CALL_START_UTC
    assert again.status == "answered"


def test_busy_end_gives_a_busy_call(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    post(client, world, notification("NOTIFY_START"))
    busy = notification("NOTIFY_END", disposition="busy", duration="0")
    assert post(client, world, busy).status_code == 200
    [call] = calls(db)
    assert call.status == "busy"
    assert call.talk_seconds == 0
    assert call.needs_callback is True


def test_the_same_event_five_times_counts_once(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    for _ in range(5):
        assert post(client, world, notification("NOTIFY_START")).status_code == 200
    assert len(calls(db)) == 1
    assert db.scalar(select(func.count()).select_from(CallEvent)) == 1


def test_wrong_signature_is_refused_and_nothing_is_stored(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    response = post(client, world, notification("NOTIFY_START"), secret="not-the-secret")
    assert response.status_code == 403
    unsigned = client.post(url(world), data=notification("NOTIFY_START"))
    assert unsigned.status_code == 403
    assert calls(db) == []


def test_another_projects_url_refuses_our_signature(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    outsider = world.outsider.project.public_key
    assert post(client, world, notification("NOTIFY_START"), key=outsider).status_code == 403
    assert calls(db) == []


def test_unknown_project_is_404(client: TestClient, world: World) -> None:
    assert post(client, world, notification("NOTIFY_START"), key="no-such-key").status_code == 404


@pytest.mark.parametrize(
    "state", [{"is_active": False}, {"secret": None}, {"secret": ""}, {"provider": "binotel"}]
)
def test_without_an_active_zadarma_account_with_a_secret_all_is_refused(
    client: TestClient, world: World, account: TelephonyAccount, db: Session, state: dict[str, Any]
) -> None:
    for name, value in state.items():
        setattr(account, name, value)
    db.commit()
    assert post(client, world, notification("NOTIFY_START")).status_code == 403
    assert calls(db) == []


def test_malformed_notification_is_400_with_the_reason(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    bad_time = notification("NOTIFY_START", call_start="10.03.2025 12:00")
    response = post(client, world, bad_time)
    assert response.status_code == 400
    assert "call_start" in response.json()["detail"]
    no_event = client.post(url(world), data={"pbx_call_id": "x"})
    assert no_event.status_code == 400
    no_call_id = notification("NOTIFY_START")
    del no_call_id["pbx_call_id"]
    response = post(client, world, no_call_id)
    assert response.status_code == 400
    assert "pbx_call_id" in response.json()["detail"]
    assert calls(db) == []


@pytest.mark.parametrize(
    "event", ["NOTIFY_INTERNAL", "NOTIFY_IVR", "NOTIFY_OUT_START", "NOTIFY_OUT_END"]
)
def test_other_notifications_are_answered_and_dropped(
    client: TestClient, world: World, account: TelephonyAccount, db: Session, event: str
) -> None:
    form = {"event": event, "pbx_call_id": "out_1", "call_start": CALL_START, "caller_id": "100"}
    response = client.post(url(world), data=form)
    assert response.status_code == 200
    assert response.content == b""
    assert calls(db) == []


def test_unknown_tracking_number_is_stored_unattributed(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    form = notification("NOTIFY_START", called_did="380449990000")
    assert post(client, world, form).status_code == 200
    [call] = calls(db)
    assert call.project_id == world.ours.project.id
    assert call.dialled_e164 == "+380449990000"
    assert call.attribution_kind == "unattributed"


def test_recording_is_queued_as_a_zadarma_reference(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    recorded = notification("NOTIFY_END", is_recorded="1", call_id_with_rec="1741600842.123")
    record = {
        "event": "NOTIFY_RECORD",
        "pbx_call_id": "in_e2e_1",
        "call_id_with_rec": "1741600842.123",
    }
    assert post(client, world, recorded).status_code == 200
    assert post(client, world, record).status_code == 200
    [call] = calls(db)
    [recording] = db.scalars(select(Recording).where(Recording.call_id == call.id))
    assert recording.provider_url == "zadarma-record:in_e2e_1:1741600842.123"
    assert recording.status == "pending"


def test_the_accounts_timezone_is_the_pbx_clock(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    account.config = {"timezone": "UTC"}
    db.commit()
    post(client, world, notification("NOTIFY_START"))
    [call] = calls(db)
    assert call.started_at == CALL_START_UTC + timedelta(hours=2)
