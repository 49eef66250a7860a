"""Zadarma as it really behaves: empty signed fields, NOTIFY_START answered before the database,
replayed notifications, and the optional check of Zadarma's sender address."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from ipaddress import ip_network
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ringtrail.jobs.runner import run_due_jobs
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.tracking import add_number
from ringtrail.services.webhook_spool import spool_for
from ringtrail.storage.models import Call, TelephonyAccount, WebhookRefusal
from ringtrail.storage.models.base import utcnow
from ringtrail.telephony import zadarma
from ringtrail.telephony.zadarma import sign, signed_text
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.hooks.test_zadarma import (
    CALL_START_UTC,
    NUMBER,
    SECRET,
    calls,
    notification,
    post,
    url,
)

ZADARMA_SERVER = zadarma.SERVER_ADDRESSES[0]
STRANGER = "203.0.113.77"


@pytest.fixture
def account(db: Session, world: World) -> TelephonyAccount:
    """Our project's Zadarma account (with its API secret) and a tracking number."""
    row = TelephonyAccount(
        project_id=world.ours.project.id,
        provider="zadarma",
        account_ref="user-key-1",
        secret=SECRET,
        config={"timezone": "Europe/Kyiv"},
        is_active=True,
    )
    db.add(row)
    add_number(db, world.ours.project, {"number": NUMBER, "kind": "static", "source": "flyer"})
    db.commit()
    return row


def refusals(db: Session) -> list[WebhookRefusal]:
    db.expire_all()
    return list(db.scalars(select(WebhookRefusal).order_by(WebhookRefusal.id)))


# -- a signed field that arrives empty -------------------------------------------------------


@pytest.mark.parametrize("hidden", ["empty", "absent"])
def test_a_hidden_caller_id_is_signed_as_empty_and_accepted(
    client: TestClient, world: World, account: TelephonyAccount, db: Session, hidden: str
) -> None:
    for event in ("NOTIFY_START", "NOTIFY_END"):
        form = notification(event, "in_hidden", caller_id="")
        if hidden == "absent":
            del form["caller_id"]
        # Zadarma's SDK joins the missing caller as an empty string and signs that.
        text = form.get("caller_id", "") + form["called_did"] + form["call_start"]
        headers = {"Signature": sign(SECRET, text)}
        response = client.post(url(world), data=form, headers=headers)
        assert response.status_code == 200, response.text
    [call] = calls(db)
    assert call.caller_e164 is None
    assert (call.status, call.talk_seconds) == ("answered", 42)


def test_an_empty_signed_field_still_needs_the_right_signature(
    client: TestClient, world: World, account: TelephonyAccount, db: Session
) -> None:
    form = notification("NOTIFY_START", "in_hidden", caller_id="")
    headers = {"Signature": sign(SECRET, "+380501234567" + form["called_did"] + form["call_start"])}
    assert client.post(url(world), data=form, headers=headers).status_code == 403
    assert calls(db) == []


# -- NOTIFY_START answered before the database write -----------------------------------------


def _post_raw(app: Any, path: str, form: dict[str, str], order: list[str]) -> int:
    """POST through the ASGI interface, noting in `order` when the answer's last byte left."""
    body = urlencode(form).encode()
    headers = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
        (b"signature", sign(SECRET, signed_text(form)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("198.51.100.1", 40000),
        "server": ("testserver", 80),
    }
    status: list[int] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            order.append("answered")

    # A thread of its own: a browser test earlier in this worker may own this thread's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return status[0]


def test_notify_start_is_answered_before_the_database_write(
    runtime: Runtime,
    world: World,
    account: TelephonyAccount,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order: list[str] = []
    ingest_many = CallIngestion.ingest_many

    def noted(self: CallIngestion, *args: Any, **kwargs: Any) -> Any:
        order.append("written")
        return ingest_many(self, *args, **kwargs)

    monkeypatch.setattr(CallIngestion, "ingest_many", noted)
    app = create_app(runtime)
    start = notification("NOTIFY_START", "in_fast")
    assert _post_raw(app, url(world), start, order) == 200
    assert order == ["answered", "written"]
    [call] = calls(db)
    assert (call.provider_call_id, call.started_at) == ("in_fast", CALL_START_UTC)
    assert spool_for(runtime).pending() == []  # written, so no longer kept on disk
    end = notification("NOTIFY_END", "in_fast")
    order.clear()
    assert _post_raw(app, url(world), end, order) == 200
    assert order == ["written", "answered"]  # the rest are answered once stored


def test_a_start_the_database_could_not_take_is_kept_and_replayed(
    runtime: Runtime,
    client: TestClient,
    world: World,
    account: TelephonyAccount,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def database_down(self: CallIngestion, *args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    with monkeypatch.context() as patched:
        patched.setattr(CallIngestion, "ingest_many", database_down)
        response = post(client, world, notification("NOTIFY_START", "in_kept"))
    assert response.status_code == 200  # Zadarma routes the call regardless
    assert calls(db) == []
    [kept] = spool_for(runtime).pending()
    # The next jobs pass after the live request had its chance takes it.
    assert run_due_jobs(runtime, utcnow()).replayed == 0
    assert run_due_jobs(runtime, utcnow() + timedelta(minutes=2)).replayed == 1
    [call] = calls(db)
    assert call.provider_call_id == "in_kept"
    assert not kept.exists()


def test_a_start_kept_by_a_process_that_died_is_replayed_once(
    runtime: Runtime, world: World, account: TelephonyAccount, db: Session
) -> None:
    events = zadarma.parse_notification(
        notification("NOTIFY_START", "in_orphan"),
        timezone=ZoneInfo("Europe/Kyiv"),
        received_at=utcnow(),
    )
    spool = spool_for(runtime)
    path = spool.keep(events, project_id=world.ours.project.id, sender=ZADARMA_SERVER)
    assert path.exists() and not list(path.parent.glob(".*.tmp"))
    # The process died before it ingested the file; another pass replays it, and a second
    # copy of the same events (the live request finishing late) changes nothing.
    assert spool.replay(utcnow() + timedelta(minutes=2)) == 1
    copy = spool.keep(events, project_id=world.ours.project.id, sender=ZADARMA_SERVER)
    assert spool.ingest_kept(copy)
    [call] = calls(db)
    assert call.provider_call_id == "in_orphan"
    assert spool.pending() == []


# -- replayed notifications ------------------------------------------------------------------


def test_a_later_notify_end_with_other_values_is_ignored_and_logged(
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
) -> None:
    zadarma_client = client_from(ZADARMA_SERVER)
    assert post(zadarma_client, world, notification("NOTIFY_START", "in_r1")).status_code == 200
    assert post(zadarma_client, world, notification("NOTIFY_END", "in_r1")).status_code == 200
    assert post(zadarma_client, world, notification("NOTIFY_END", "in_r1")).status_code == 200
    assert refusals(db) == []  # Zadarma's own redelivery is no replay
    altered = notification("NOTIFY_END", "in_r1", duration="3000", disposition="busy")
    assert post(client_from(STRANGER), world, altered).status_code == 200
    [call] = calls(db)
    assert (call.status, call.talk_seconds) == ("answered", 42)
    [row] = refusals(db)
    assert (row.provider, row.reason, row.address) == (
        "zadarma",
        "replayed_notification",
        STRANGER,
    )


def test_a_notification_sent_again_under_another_call_id_makes_no_call(
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
) -> None:
    zadarma_client = client_from(ZADARMA_SERVER)
    for event in ("NOTIFY_START", "NOTIFY_END"):
        assert post(zadarma_client, world, notification(event, "in_real")).status_code == 200
    stranger = client_from(STRANGER)
    # The signed fields are the real call's, so the signature verifies; only the id differs.
    assert post(stranger, world, notification("NOTIFY_START", "in_fake")).status_code == 200
    fake_end = notification("NOTIFY_END", "in_fake", duration="900")
    response = post(stranger, world, fake_end)
    assert response.status_code == 403
    assert "in_real" in response.json()["detail"]
    assert [call.provider_call_id for call in calls(db)] == ["in_real"]
    [row] = refusals(db)
    assert (row.reason, row.address, row.count) == ("replayed_notification", STRANGER, 2)


# -- the sender address, as an option --------------------------------------------------------


@pytest.fixture
def check_sender(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = runtime.settings.model_copy(
        update={
            "zadarma_check_sender": True,
            "zadarma_sender_addresses": (ip_network("192.0.2.0/28"),),
        }
    )
    monkeypatch.setattr(runtime, "settings", settings)


def test_without_the_option_any_sender_with_the_signature_is_accepted(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    assert post(client_from(STRANGER), world, notification("NOTIFY_START")).status_code == 200
    assert len(calls(db)) == 1


def test_with_the_option_only_zadarmas_address_is_accepted(
    check_sender: None,
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
) -> None:
    response = post(client_from(STRANGER), world, notification("NOTIFY_START", "in_s1"))
    assert response.status_code == 403
    assert calls(db) == []
    [row] = refusals(db)
    assert (row.provider, row.reason, row.address) == ("zadarma", "sender_not_allowed", STRANGER)
    for sender, call_id, start in (
        (ZADARMA_SERVER, "in_s2", "2025-03-10 12:00:00"),
        ("192.0.2.5", "in_s3", "2025-03-10 12:05:00"),
    ):
        form = notification("NOTIFY_START", call_id, call_start=start)
        assert post(client_from(sender), world, form).status_code == 200
    assert sorted(call.provider_call_id for call in calls(db)) == ["in_s2", "in_s3"]


def test_calls_are_unchanged_by_a_refused_sender(
    check_sender: None,
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
) -> None:
    post(client_from(ZADARMA_SERVER), world, notification("NOTIFY_START", "in_s4"))
    post(client_from(ZADARMA_SERVER), world, notification("NOTIFY_END", "in_s4"))
    forged = notification("NOTIFY_END", "in_s4", duration="1", disposition="busy")
    assert post(client_from(STRANGER), world, forged).status_code == 403
    [call] = calls(db)
    assert isinstance(call, Call) and call.talk_seconds == 42
