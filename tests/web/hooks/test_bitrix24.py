"""Bitrix24's outbound deal events at /hooks/bitrix24/{key}/{destination}: the application
token is checked, the deal is read back and upserted, and the profit report shows it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import Deal, IntegrationDestination
from tests.conftest import World
from tests.integrations.bitrix24_stub import Bitrix24Stub
from tests.integrations.bitrix24_world import APP_TOKEN, DealWorld, build, paid_search


@pytest.fixture
def stub() -> Iterator[Bitrix24Stub]:
    running = Bitrix24Stub().start()
    yield running
    running.stop()


def url(made: DealWorld) -> str:
    return f"/hooks/bitrix24/{made.project.public_key}/{made.destination.id}"


def event(made: DealWorld, name: str = "ONCRMDEALUPDATE", token: str = APP_TOKEN) -> dict[str, str]:
    return {
        "event": name,
        "event_handler_id": "12",
        "data[FIELDS][ID]": str(made.deal_id),
        "ts": "1741000000",
        "auth[domain]": "acme.bitrix24.ua",
        "auth[member_id]": "abc",
        "auth[application_token]": token,
    }


def test_a_deal_event_updates_the_deal_and_the_profit_report(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    added = client.post(url(made), data=event(made, "ONCRMDEALADD"))
    assert added.status_code == 200, added.text
    assert added.json()["created"] == 1
    stub.set_deal(made.deal_id, STAGE_ID="WON", OPPORTUNITY="2500.00")
    updated = client.post(url(made), data=event(made))
    assert updated.status_code == 200, updated.text
    assert updated.json() == {
        "deal": f"bitrix24:{made.deal_id}", "created": 0, "updated": 1, "linked": 1,
    }  # fmt: skip
    db.expire_all()
    deal = db.scalars(select(Deal)).one()
    assert (deal.status, deal.revenue, deal.call_id) == ("won", Decimal("2500.00"), made.call.id)
    row = paid_search(db, world.ours.project)
    assert (row["revenue"], row["profit"], row["romi"]) == (
        Decimal("2500.00"),
        Decimal("2400.00"),
        24.0,
    )
    assert ("crm.deal.get", {"id": made.deal_id}) in stub.calls


def test_a_wrong_token_is_refused_with_the_reason(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    answer = client.post(url(made), data=event(made, token="forged"))
    assert answer.status_code == 403
    assert "does not match" in answer.json()["detail"]
    missing = {k: v for k, v in event(made).items() if k != "auth[application_token]"}
    assert "carries no" in client.post(url(made), data=missing).json()["detail"]
    assert stub.calls == [] and db.scalars(select(Deal)).all() == []


def test_no_stored_token_is_refused_and_says_what_to_do(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    made.destination.secrets = f'{{"webhook_url": "{stub.webhook_url}"}}'
    db.commit()
    answer = client.post(url(made), data=event(made))
    assert answer.status_code == 403 and "paste the token" in answer.json()["detail"]


def test_another_projects_key_or_destination_is_not_found(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    other = f"/hooks/bitrix24/{world.outsider.project.public_key}/{made.destination.id}"
    assert client.post(other, data=event(made)).status_code == 404
    missing = f"/hooks/bitrix24/{made.project.public_key}/{made.destination.id + 1000}"
    assert client.post(missing, data=event(made)).status_code == 404


def test_other_events_are_ignored_in_words(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    answer = client.post(url(made), data=event(made, "ONCRMLEADADD"))
    assert answer.status_code == 200
    assert "only deal add and update" in answer.json()["ignored"]
    bad = {**event(made), "data[FIELDS][ID]": "abc"}
    assert client.post(url(made), data=bad).status_code == 422


def test_bitrix24_down_is_said(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    stub.fail_next = [(503, "QUERY_LIMIT_EXCEEDED")]
    answer = client.post(url(made), data=event(made))
    assert answer.status_code == 502
    assert "request limit" in answer.json()["detail"]


def test_an_app_connection_renews_its_token_and_keeps_it(
    client: TestClient, db: Session, world: World, stub: Bitrix24Stub
) -> None:
    made = build(db, world.ours.project, stub)
    made.destination.config = {
        "connection": "oauth",
        "create": "deal",
        "client_endpoint": stub.client_endpoint,
        "client_id": stub.client_id,
        "oauth_server": stub.base_url,
    }
    made.destination.secrets = json.dumps(
        {
            "client_secret": stub.client_secret,
            "access_token": "access-0",
            "refresh_token": stub.refresh_token,
            "application_token": APP_TOKEN,
        }
    )
    db.commit()
    answer = client.post(url(made), data=event(made))
    assert answer.status_code == 200, answer.text
    db.expire_all()
    stored = json.loads(db.get(IntegrationDestination, made.destination.id).secrets or "{}")  # type: ignore[union-attr]
    assert stored["refresh_token"] == stub.refresh_token == "refresh-2"
