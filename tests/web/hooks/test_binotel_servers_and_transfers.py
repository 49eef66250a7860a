"""Binotel as it really sends: from its newer servers, refused senders shown to the operator,
and a transferred call reported leg by leg under one call id."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_network

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.settings import Settings
from ringtrail.storage.models import CallEvent, TelephonyAccount, WebhookRefusal
from ringtrail.telephony import binotel
from tests.conftest import World
from tests.web.dashboard.browser import log_in
from tests.web.hooks.test_binotel import (
    BINOTEL_SERVER,
    STRANGER,
    SUCCESS,
    body,
    calls,
    post,
)

OPERATOR_NETWORK = "198.51.100.0/24"
TRACKING = "binotel_call_completed_tracking"
START = 1526638835


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An operator who added a network to Binotel's servers (RINGTRAIL_BINOTEL_SENDER_ADDRESSES)."""
    return settings.model_copy(update={"binotel_sender_addresses": (ip_network(OPERATOR_NETWORK),)})


@pytest.fixture
def account(db: Session, world: World) -> TelephonyAccount:
    """Our project's Binotel account with nothing listed: Binotel's servers are built in."""
    from ringtrail.services.tracking import add_number

    row = TelephonyAccount(
        project_id=world.ours.project.id, provider="binotel", config={}, is_active=True
    )
    db.add(row)
    number = {"number": "+380672190093", "kind": "static", "source": "billboard"}
    add_number(db, world.ours.project, number)
    db.commit()
    return row


@pytest.mark.parametrize(
    "server",
    ["45.91.130.36", "45.91.130.51", "45.91.130.82", "45.91.129.203", "194.88.218.116"],
)
def test_binotels_current_servers_are_accepted_without_listing_them(
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
    server: str,
) -> None:
    assert server in binotel.SERVER_ADDRESSES
    assert post(client_from(server), world, body(TRACKING)).json() == SUCCESS
    assert len(calls(db)) == 1


def test_the_operator_extends_the_list_without_a_release(
    client_from: Callable[[str], TestClient], world: World, account: TelephonyAccount, db: Session
) -> None:
    assert post(client_from("198.51.100.7"), world, body(TRACKING)).json() == SUCCESS
    assert len(calls(db)) == 1


def test_a_refused_sender_is_on_the_refusals_page_with_the_providers_name(
    client_from: Callable[[str], TestClient],
    client: TestClient,
    world: World,
    account: TelephonyAccount,
    db: Session,
) -> None:
    for attempt in ("1", "2"):
        content = body(TRACKING).replace("attemptsCounter=1", f"attemptsCounter={attempt}")
        response = post(client_from(STRANGER), world, content)
        assert response.status_code == 403
        assert STRANGER in response.json()["detail"]
    assert calls(db) == []
    [row] = db.scalars(select(WebhookRefusal))
    assert (row.project_id, row.provider, row.reason) == (
        world.ours.project.id,
        "binotel",
        "sender_not_allowed",
    )
    assert (row.address, row.count) == (STRANGER, 2)

    log_in(client, world.ours.owner.email)
    page = client.get(f"/p/{world.ours.project.id}/settings/refusals?lang=en").text
    section = page.split('id="webhook-refusals"', 1)[1]
    assert "Refused webhook requests" in section
    assert '<td class="refusal-provider">Binotel</td>' in section
    assert f'<td class="refusal-address">{STRANGER}</td>' in section
    assert "Sender address not allowed" in section
    assert '<td class="num">2</td>' in section
    ukrainian = client.get(f"/p/{world.ours.project.id}/settings/refusals?lang=uk").text
    assert "Відхилені запити вебхуків" in ukrainian
    assert "Адресу відправника не дозволено" in ukrainian


def test_another_projects_refused_senders_are_not_shown(
    client_from: Callable[[str], TestClient],
    client: TestClient,
    world: World,
    account: TelephonyAccount,
    db: Session,
) -> None:
    post(client_from(STRANGER), world, body(TRACKING))
    log_in(client, world.outsider.owner.email)
    page = client.get(f"/p/{world.outsider.project.id}/settings/refusals?lang=en").text
    assert STRANGER not in page
    assert "No refused webhook requests." in page


def leg(call_leg: str, start: int, employee: str, wait: int, talk: int, outcome: str) -> str:
    return body(
        TRACKING,
        callID=call_leg,
        startTime=str(start),
        internalNumber=employee,
        waitsec=str(wait),
        billsec=str(talk),
        disposition=outcome,
    )


@pytest.mark.parametrize("second_call_id", ["612107649", "612107650"])
@pytest.mark.parametrize("order", ["in order", "second leg first"])
def test_a_transfer_reported_leg_by_leg_is_one_call_with_both_legs_in_its_history(
    client_from: Callable[[str], TestClient],
    world: World,
    account: TelephonyAccount,
    db: Session,
    second_call_id: str,
    order: str,
) -> None:
    first = leg("612107649", START, "901", 5, 30, "TRANSFER")
    second = leg(second_call_id, START + 35, "902", 3, 60, "ANSWER")
    legs = [first, second] if order == "in order" else [second, first]
    client = client_from(BINOTEL_SERVER)
    for content in [*legs, first.replace("attemptsCounter=1", "attemptsCounter=2")]:
        assert post(client, world, content).json() == SUCCESS
    [call] = calls(db)
    assert call.provider_call_id == "612107649"
    assert call.status == "answered"
    assert call.started_at.timestamp() == START
    assert call.ended_at is not None and call.ended_at.timestamp() == START + 35 + 3 + 60
    assert (call.duration_seconds, call.talk_seconds) == (98, 90)
    assert call.forwarded_to is not None and call.forwarded_to.endswith("902")
    history = db.scalars(
        select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.occurred_at)
    ).all()
    kinds = [(event.event_type, event.payload["event"]["leg"]) for event in history]
    first_leg = f"612107649:901:{START}"
    second_leg = f"{second_call_id}:902:{START + 35}"
    assert sorted(kinds) == sorted(
        [
            ("started", first_leg),
            ("answered", first_leg),
            ("ended", first_leg),
            ("started", second_leg),
            ("answered", second_leg),
            ("ended", second_leg),
        ]
    )
