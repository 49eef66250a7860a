"""No webhook body, however malformed, is a 5xx: a provider would deliver it again forever.

Every webhook refuses, with a 4xx and a reason: NUL characters (PostgreSQL cannot store
them), lone surrogates, JSON nested deeper than the limit, and dates or durations that
overflow when converted to UTC or added up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.storage.models import Call, TelephonyAccount
from ringtrail.telephony.signed import sign
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.hooks import test_binotel as binotel_hooks
from tests.web.hooks import test_twilio as twilio_hooks
from tests.web.hooks import test_zadarma as zadarma_hooks

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def lenient(runtime: Runtime) -> Iterator[TestClient]:
    """A client that answers a server error as a 500 instead of raising it."""
    with TestClient(
        create_app(runtime), raise_server_exceptions=False, client=("194.88.218.116", 40000)
    ) as client:
        yield client


@pytest.fixture
def accounts(db: Session, world: World) -> None:
    """Zadarma, Binotel and Twilio accounts on our project, so each webhook gets to parsing."""
    project = world.ours.project
    db.add_all(
        [
            TelephonyAccount(
                project_id=project.id,
                provider="zadarma",
                account_ref="user-key-1",
                secret=zadarma_hooks.SECRET,
                config={},
                is_active=True,
            ),
            TelephonyAccount(
                project_id=project.id,
                provider="binotel",
                config={"allowed_ips": [binotel_hooks.BINOTEL_SERVER]},
                is_active=True,
            ),
            TelephonyAccount(
                project_id=project.id,
                provider="twilio",
                account_ref=twilio_hooks.ACCOUNT_SID,
                secret=twilio_hooks.TOKEN,
                config={},
                is_active=True,
            ),
        ]
    )
    db.commit()


def calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call)))


# --- the generic signed webhook -----------------------------------------------------------


def post_signed(client: TestClient, world: World, raw: str) -> Any:
    body = raw.encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Ringtrail-Timestamp": str(stamp),
        "X-Ringtrail-Signature": sign(world.ours.project.webhook_secret, stamp, body),
    }
    return client.post(
        f"/hooks/v1/{world.ours.project.public_key}/calls", content=body, headers=headers
    )


def started(**changes: Any) -> dict[str, Any]:
    return {
        "event": "call.started",
        "call_id": "pbx-1",
        "occurred_at": "2026-11-23T10:00:00+02:00",
        "to": "+380441230001",
        "from": "+380501112233",
        **changes,
    }


@pytest.mark.parametrize(
    "occurred_at",
    [
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00Z",
        "1900-01-01T00:00:00Z",
    ],
)
def test_a_signed_event_dated_out_of_range_is_a_422(
    lenient: TestClient, world: World, db: Session, occurred_at: str
) -> None:
    for payload in (
        started(occurred_at=occurred_at),
        {"events": [started(occurred_at=occurred_at)]},
    ):
        response = post_signed(lenient, world, json.dumps(payload))

        assert response.status_code == 422, response.text
        assert "occurred_at" in response.json()["detail"]
    assert calls(db) == []


def test_a_signed_call_ending_past_the_year_9999_is_a_422(
    lenient: TestClient, world: World, db: Session
) -> None:
    ended = {
        "event": "call.ended",
        "call_id": "pbx-1",
        "occurred_at": "9999-12-31T23:59:00Z",
        "total_seconds": 7 * 24 * 3600,
    }
    response = post_signed(lenient, world, json.dumps({"events": [started(), ended]}))

    assert response.status_code == 422, response.text
    assert calls(db) == []


def test_signed_json_nested_a_thousand_deep_is_a_422(
    lenient: TestClient, world: World, db: Session
) -> None:
    raw = json.dumps(started(meta={"x": 1})).replace('{"x": 1}', f'{{"x": {DEEP}}}')

    response = post_signed(lenient, world, raw)

    assert response.status_code == 422, response.text
    assert "deeper" in response.json()["detail"]
    assert calls(db) == []


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"call_id": "pbx\x00-1"}, "call_id"),
        ({"from": "+38050\x001112233"}, "from"),
        ({"to": "+38044\x00"}, "to"),
        ({"event_id": "e\x00"}, "event_id"),
        ({"meta": {"crm": "a\x00b"}}, "meta.crm"),
        ({"meta": {"a\x00b": "c"}}, "meta"),
        ({"call_id": "pbx-\ud800"}, "call_id"),
        ({"meta": {"deep": [{"text": "\udfff"}]}}, "meta.deep.0.text"),
    ],
)
def test_nul_or_a_lone_surrogate_in_a_signed_event_is_a_422_naming_the_field(
    lenient: TestClient, world: World, db: Session, changes: dict[str, Any], where: str
) -> None:
    response = post_signed(lenient, world, json.dumps(started(**changes)))

    assert response.status_code == 422, response.text
    assert where in response.json()["detail"]
    assert calls(db) == []


# --- Zadarma ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"call_start": "0001-01-01 00:00:00"},
        {"call_start": "9999-12-31 23:59:59"},
        {"call_start": "1900-01-01 00:00:00"},
        {"duration": "9" * 30},
        {"duration": "9" * 5000},
        {"duration": "\u00b2"},
        {"caller_id": "+38050\x001234567"},
        {"pbx_call_id": "in\x00_1"},
        {"called_did": "\x00"},
    ],
)
def test_a_zadarma_notification_that_cannot_be_stored_is_a_400(
    lenient: TestClient, world: World, db: Session, accounts: None, changes: dict[str, str]
) -> None:
    form = zadarma_hooks.notification("NOTIFY_END", **changes)

    response = zadarma_hooks.post(lenient, world, form)

    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert calls(db) == []


def test_a_zadarma_start_that_overflows_in_the_pbx_time_zone_is_a_400(
    lenient: TestClient, world: World, db: Session, accounts: None
) -> None:
    account = db.scalars(
        select(TelephonyAccount).where(TelephonyAccount.provider == "zadarma")
    ).one()
    account.config = {"timezone": "America/New_York"}
    db.commit()
    form = zadarma_hooks.notification("NOTIFY_START", call_start="9999-12-31 23:00:00")

    response = zadarma_hooks.post(lenient, world, form)

    assert response.status_code == 400, response.text
    assert calls(db) == []


# --- Binotel ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"startTime": "253402300790", "waitsec": "100"},
        {"startTime": "0"},
        {"waitsec": "9" * 30},
        {"billsec": "9" * 5000, "disposition": "ANSWER"},
        {"waitsec": "\u00b2"},
        {"externalNumber": "067\x002900083"},
        {"generalCallID": "612\x00107649"},
        {"customerData": "\x00"},
    ],
)
def test_a_binotel_request_that_cannot_be_stored_is_a_400(
    lenient: TestClient, world: World, db: Session, accounts: None, changes: dict[str, str]
) -> None:
    content = binotel_hooks.body("binotel_call_completed_tracking", **changes)

    response = binotel_hooks.post(lenient, world, content)

    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert calls(db) == []


# --- Twilio -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"Timestamp": "Fri, 31 Dec 9999 23:59:59 -0500"},
        {"Timestamp": "Mon, 01 Jan 1900 00:00:00 +0500"},
        {"CallDuration": "9" * 30},
        {"CallDuration": "\u00b2"},
        {"From": "+38067\x001234567"},
        {"CallSid": "CA\x00"},
        {"AccountSid": twilio_hooks.ACCOUNT_SID + "\x00"},
        {"CalledCity": "\x00"},
    ],
)
def test_a_twilio_callback_that_cannot_be_stored_is_a_400(
    lenient: TestClient, db: Session, accounts: None, changes: dict[str, str]
) -> None:
    form = twilio_hooks.fixture("status_completed", **changes)

    response = twilio_hooks.post(lenient, "/hooks/twilio/status", form)

    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert calls(db) == []


# --- every webhook URL --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/hooks/v1/{key}/calls"),
        ("POST", "/hooks/zadarma/{key}"),
        ("GET", "/hooks/zadarma/{key}?zd_echo=x"),
        ("POST", "/hooks/binotel/{key}"),
    ],
)
def test_a_nul_in_a_webhook_url_key_is_a_4xx(
    lenient: TestClient, accounts: None, method: str, path: str
) -> None:
    response = lenient.request(method, path.format(key="ab%00cd"), data={"a": "b"})

    assert 400 <= response.status_code < 500, response.text
