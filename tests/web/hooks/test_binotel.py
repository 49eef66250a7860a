"""Binotel's webhook end to end: only allowed addresses, a completed call in, success out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call, CallEvent, Recording, TelephonyAccount
from tests.conftest import World

FIXTURES = Path(__file__).parents[2] / "telephony" / "fixtures"
BINOTEL_SERVER = "194.88.218.116"
STRANGER = "203.0.113.50"
PROXY = "10.1.2.3"
DIALLED = "+380672190093"  # the did of binotel_call_completed_tracking
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SUCCESS = {"status": "success"}


def body(name: str, **changes: str) -> str:
    """A recorded-shape body, with `callDetails[...]` values changed."""
    pairs = parse_qsl((FIXTURES / f"{name}.txt").read_text().strip(), keep_blank_values=True)
    changed = {f"callDetails[{key}]": value for key, value in changes.items()}
    return urlencode(
        [(key, changed.pop(key, value)) for key, value in pairs] + list(changed.items())
    )


@pytest.fixture
def account(db: Session, world: World) -> TelephonyAccount:
    """Our project's Binotel account, allowing Binotel's published servers, and its number."""
    row = TelephonyAccount(
        project_id=world.ours.project.id,
        provider="binotel",
        config={"allowed_ips": ["194.88.218.0/24", "194.88.219.0/24", "185.100.66.145"]},
        is_active=True,
    )
    db.add(row)
    add_number(db, world.ours.project, {"number": DIALLED, "kind": "static", "source": "billboard"})
    db.commit()
    return row


def url(world: World, key: str | None = None) -> str:
    return f"/hooks/binotel/{key or world.ours.project.public_key}"


def post(
    client: TestClient, world: World, content: str, headers: dict[str, str] | None = None
) -> Any:
    return client.post(url(world), content=content, headers={**FORM, **(headers or {})})


def calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).order_by(Call.id)))


def test_completed_call_becomes_a_call_with_status_and_durations(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    response = post(client_from(BINOTEL_SERVER), world, body("binotel_call_completed_tracking"))
    assert response.status_code == 200, response.text
    assert response.json() == SUCCESS
    [call] = calls(db)
    assert call.provider == "binotel"
    assert call.provider_call_id == "612107649"
    assert call.project_id == world.ours.project.id
    assert call.status == "missed"
    assert (call.duration_seconds, call.talk_seconds) == (21, 0)
    assert call.dialled_e164 == DIALLED
    assert call.caller_e164 == "+380672900083"
    assert call.source == "billboard"
    stored = db.scalars(select(CallEvent.payload)).first()
    assert stored is not None
    assert stored["raw"]["callDetails"]["callTrackingData"]["utm_source"] == "google"


def test_answered_call_has_talk_time_and_a_queued_recording(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    content = body("binotel_call_completed_answered")
    assert post(client_from(BINOTEL_SERVER), world, content).json() == SUCCESS
    [call] = calls(db)
    assert call.status == "answered"
    assert (call.duration_seconds, call.talk_seconds) == (30, 17)
    [recording] = db.scalars(select(Recording).where(Recording.call_id == call.id))
    assert recording.provider_url == f"binotel-record:{call.provider_call_id}"


def test_busy_call_is_busy(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    content = body("binotel_call_completed_tracking", disposition="BUSY", waitsec="0")
    assert post(client_from(BINOTEL_SERVER), world, content).json() == SUCCESS
    [call] = calls(db)
    assert call.status == "busy"


def test_retries_of_the_same_call_count_once(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    client = client_from(BINOTEL_SERVER)
    for attempt in range(1, 6):
        content = body("binotel_call_completed_tracking").replace(
            "attemptsCounter=1", f"attemptsCounter={attempt}"
        )
        assert post(client, world, content).json() == SUCCESS
    assert len(calls(db)) == 1
    assert db.scalar(select(func.count()).select_from(CallEvent)) == 2  # started + ended


def test_refused_address_is_403_and_nothing_is_stored(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    response = post(client_from(STRANGER), world, body("binotel_call_completed_tracking"))
    assert response.status_code == 403
    assert calls(db) == []


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    content = body("binotel_call_completed_tracking")
    claimed = {"X-Forwarded-For": BINOTEL_SERVER}
    assert post(client_from(PROXY), world, content, claimed).status_code == 403
    account.config = {**account.config, "trusted_proxies": ["10.0.0.0/8"]}
    db.commit()
    assert post(client_from(PROXY), world, content, claimed).json() == SUCCESS
    spoofed = {"X-Forwarded-For": f"{BINOTEL_SERVER}, {STRANGER}"}
    assert post(client_from(PROXY), world, content, spoofed).status_code == 403
    assert len(calls(db)) == 1


@pytest.mark.parametrize("config", [{}, {"allowed_ips": []}, {"allowed_ips": ["nonsense"]}])
def test_a_sender_outside_binotels_servers_and_the_lists_is_refused(
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
    config: dict[str, Any],
) -> None:
    account.config = config
    db.commit()
    response = post(client_from(STRANGER), world, body("binotel_call_completed_tracking"))
    assert response.status_code == 403
    assert calls(db) == []
    # Binotel's own servers need no listing.
    response = post(client_from(BINOTEL_SERVER), world, body("binotel_call_completed_tracking"))
    assert response.json() == SUCCESS


def test_no_binotel_account_or_another_project_is_refused(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    client = client_from(BINOTEL_SERVER)
    outsider = url(world, world.outsider.project.public_key)
    content = body("binotel_call_completed_tracking")
    assert client.post(outsider, content=content, headers=FORM).status_code == 403
    assert client.post(url(world, "no-such-key"), content=content, headers=FORM).status_code == 404
    account.is_active = False
    db.commit()
    assert post(client, world, content).status_code == 403
    assert calls(db) == []


def test_outbound_calls_and_other_types_are_answered_and_ignored(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    client = client_from(BINOTEL_SERVER)
    assert post(client, world, body("binotel_call_completed_outbound")).json() == SUCCESS
    settings_request = urlencode({"requestType": "apiCallSettings", "srcNumber": "0671112233"})
    assert post(client, world, settings_request).json() == SUCCESS
    assert calls(db) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("attemptsCounter=1", "requestType"),
        ("requestType=apiCallCompleted", "callDetails"),
        (None, "startTime"),
        ("requestType=x&requestType[a]=y", "twice"),
    ],
)
def test_malformed_request_is_400_with_the_reason(
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
    content: str | None,
    reason: str,
) -> None:
    content = content or body("binotel_call_completed_tracking", startTime="soon")
    response = post(client_from(BINOTEL_SERVER), world, content)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert calls(db) == []


def test_unknown_tracking_number_is_stored_unattributed(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    content = body("binotel_call_completed_tracking", did="0445550000", didNumber="0445550000")
    assert post(client_from(BINOTEL_SERVER), world, content).json() == SUCCESS
    [call] = calls(db)
    assert call.project_id == world.ours.project.id
    assert call.dialled_e164 == "+380445550000"
    assert call.attribution_kind == "unattributed"
