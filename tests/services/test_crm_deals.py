"""Bitrix24 deals in: read back, linked to the call Ringtrail created them for, counted in the
profit report; and the open lead or deal that keeps a person to one lead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.one_lead_per_person import OpenContact
from ringtrail.integrations.bitrix24 import Bitrix24Config
from ringtrail.services.crm_deals import one_lead_facts, open_contact_of, sync_bitrix24_deal
from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models import Deal
from tests.conftest import World
from tests.integrations.bitrix24_stub import Bitrix24Stub
from tests.integrations.bitrix24_world import build, paid_search
from tests.services.money.rows import add_lead

D = Decimal


@pytest.fixture
def stub() -> Iterator[Bitrix24Stub]:
    running = Bitrix24Stub().start()
    yield running
    running.stop()


def config(stub: Bitrix24Stub) -> Bitrix24Config:
    return Bitrix24Config(webhook_url=stub.webhook_url)


def test_a_won_deal_updates_the_deal_and_the_profit_report(
    db: Session, world: World, stub: Bitrix24Stub
) -> None:
    project = world.ours.project
    made = build(db, project, stub)
    with httpx.Client() as client:
        first = sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)
        db.commit()
        assert first.imported is not None and first.imported.created == 1
        assert paid_search(db, project)["revenue"] == D("0.00")
        stub.set_deal(made.deal_id, STAGE_ID="WON", OPPORTUNITY="1500.00")
        second = sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)
        db.commit()
    assert second.imported is not None and second.imported.updated == 1
    deal = db.scalars(select(Deal).where(Deal.external_id == f"bitrix24:{made.deal_id}")).one()
    assert (deal.status, deal.revenue, deal.call_id) == ("won", D("1500.00"), made.call.id)
    assert deal.closed_at is not None
    row = paid_search(db, project)
    assert (row["cost"], row["revenue"], row["profit"]) == (D("100.00"), D("1500.00"), D("1400.00"))
    assert row["romi"] == 14.0


def test_a_lost_deal_brings_nothing(db: Session, world: World, stub: Bitrix24Stub) -> None:
    project = world.ours.project
    made = build(db, project, stub, STAGE_ID="C1:LOSE", STAGE_SEMANTIC_ID="F", OPPORTUNITY="900")
    with httpx.Client() as client:
        sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)
    db.commit()
    assert db.scalars(select(Deal.status)).one() == "lost"
    assert paid_search(db, project)["revenue"] == D("0.00")


def test_a_deal_converted_from_our_lead_finds_the_call_through_the_lead(
    db: Session, world: World, stub: Bitrix24Stub
) -> None:
    project = world.ours.project
    made = build(db, project, stub, ORIGINATOR_ID=None, ORIGIN_ID=None, LEAD_ID="77")
    stub.leads[77] = {"ID": "77", "ORIGINATOR_ID": "ringtrail", "ORIGIN_ID": f"call:{made.call.id}"}
    with httpx.Client() as client:
        sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)
    assert db.scalars(select(Deal.call_id)).one() == made.call.id


def test_a_deal_found_by_its_contacts_phone(db: Session, world: World, stub: Bitrix24Stub) -> None:
    project = world.ours.project
    made = build(db, project, stub, ORIGINATOR_ID=None, ORIGIN_ID=None, CONTACT_ID="5")
    stub.contacts[5] = {"ID": "5", "PHONE": [{"VALUE": "+380501110001", "VALUE_TYPE": "WORK"}]}
    with httpx.Client() as client:
        sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)
    assert db.scalars(select(Deal.call_id)).one() == made.call.id


def test_a_deal_naming_nothing_of_ours_is_left_out_with_the_reason(
    db: Session, world: World, stub: Bitrix24Stub
) -> None:
    project = world.ours.project
    made = build(db, project, stub, ORIGINATOR_ID=None, ORIGIN_ID=None)
    with httpx.Client() as client:
        result = sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)
    assert result.ignored is not None and "names no Ringtrail call" in result.ignored
    assert db.scalars(select(Deal)).all() == []


def test_another_currency_is_refused(db: Session, world: World, stub: Bitrix24Stub) -> None:
    project = world.ours.project
    made = build(db, project, stub, CURRENCY_ID="EUR")
    with httpx.Client() as client, pytest.raises(InvalidInput, match="EUR"):
        sync_bitrix24_deal(db, project, config(stub), made.deal_id, client)


def test_open_contact_of_a_person(db: Session, world: World) -> None:
    project = world.ours.project
    at = datetime(2025, 3, 1, 9, tzinfo=UTC)
    first = add_lead(db, project, at, phone_e164="+380501110001")
    second = add_lead(db, project, at + timedelta(hours=1), phone_e164="+380501110001",
                      person_id=first.id)  # fmt: skip
    assert open_contact_of(db, first) is None
    assert open_contact_of(db, second) == OpenContact("lead", first.id)
    first.status = "lost"
    db.add(Deal(project_id=project.id, external_id="x", lead_id=first.id, currency="UAH"))
    db.flush()
    deal = db.scalars(select(Deal)).one()
    assert open_contact_of(db, second) == OpenContact("deal", deal.id)
    deal.status = "won"
    db.flush()
    assert open_contact_of(db, second) is None
    first.status = "in_progress"
    db.flush()
    assert one_lead_facts(db, [second.id, first.id]) == {
        second.id: {"open_contact": {"kind": "lead", "id": first.id}}
    }
