"""CRM deals in: upserted by deal id, linked by call id or by the caller's phone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.errors import InvalidInput
from ringtrail.services.money.deals import DealRow, list_deals, parse_deals_csv, upsert_deals
from ringtrail.storage.models import Deal
from tests.call_rows import T0, add_call
from tests.conftest import World
from tests.services.money.rows import add_lead

CALLER = "+380671234567"


def deal(db: Session, world: World, external_id: str) -> Deal:
    return db.scalars(
        select(Deal).where(
            Deal.project_id == world.ours.project.id, Deal.external_id == external_id
        )
    ).one()


def test_a_deal_links_to_the_call_it_names(db: Session, world: World) -> None:
    call = add_call(db, world.ours.project)
    result = upsert_deals(
        db, world.ours.project, [DealRow("D-1", "won", Decimal("1500"), call_id=call.id)]
    )
    assert (result.created, result.updated, result.linked, result.unlinked) == (1, 0, 1, [])
    stored = deal(db, world, "D-1")
    assert (stored.call_id, stored.phone_e164, stored.currency) == (call.id, CALLER, "UAH")
    assert call.deal_value == 1500


def test_another_projects_call_is_refused(db: Session, world: World) -> None:
    theirs = add_call(db, world.outsider.project)
    with pytest.raises(InvalidInput) as caught:
        upsert_deals(db, world.ours.project, [DealRow("D-1", "won", call_id=theirs.id)])
    assert caught.value.field == "row 1, column call_id"
    assert theirs.deal_value is None


def test_a_phone_links_to_the_callers_latest_call_before_the_deal(
    db: Session, world: World
) -> None:
    project = world.ours.project
    add_call(db, project, started_at=T0)
    second = add_call(db, project, started_at=T0 + timedelta(days=1))
    add_call(db, project, started_at=T0 + timedelta(days=5))  # after the deal closed
    add_call(db, project, started_at=T0 + timedelta(days=2), caller_e164="+380501112233")
    add_call(db, world.outsider.project, started_at=T0 + timedelta(days=2))
    rows = parse_deals_csv(
        "deal_id;phone;status;revenue;closed_at\n"
        f"D-7;(067) 123-45-67;won;2 000,00;{(T0 + timedelta(days=3)).date().isoformat()}\n"
    )
    result = upsert_deals(db, project, rows)
    assert result.linked == 1
    assert deal(db, world, "D-7").call_id == second.id
    assert second.deal_value == 2000


def test_a_later_form_lead_wins_over_an_earlier_call(db: Session, world: World) -> None:
    project = world.ours.project
    add_call(db, project, started_at=T0)
    lead = add_lead(db, project, T0 + timedelta(hours=2), phone_e164=CALLER)
    upsert_deals(db, project, [DealRow("D-2", "open", phone="+380671234567")])
    stored = deal(db, world, "D-2")
    assert (stored.call_id, stored.lead_id) == (None, lead.id)


def test_a_deal_that_matches_nothing_is_kept_unlinked(db: Session, world: World) -> None:
    result = upsert_deals(
        db, world.ours.project, [DealRow("D-3", "won", Decimal("10"), phone="+380631110000")]
    )
    assert (result.linked, result.unlinked) == (0, ["D-3"])
    stored = deal(db, world, "D-3")
    assert (stored.call_id, stored.lead_id, stored.phone_e164) == (None, None, "+380631110000")


def test_reimporting_a_deal_updates_it_and_the_calls_value(db: Session, world: World) -> None:
    project = world.ours.project
    call = add_call(db, project)
    upsert_deals(db, project, [DealRow("D-4", "won", Decimal("100"), call_id=call.id)])
    result = upsert_deals(db, project, [DealRow("D-4", "Won", Decimal("250"), call_id=call.id)])
    assert (result.created, result.updated) == (0, 1)
    assert [d.revenue for d in list_deals(db, project)] == [Decimal("250.00")]
    assert call.deal_value == 250
    upsert_deals(db, project, [DealRow("D-4", "lost", Decimal("250"), call_id=call.id)])
    assert call.deal_value is None


def test_an_open_deal_leaves_a_value_typed_on_the_call(db: Session, world: World) -> None:
    call = add_call(db, world.ours.project, deal_value=75.0)
    upsert_deals(db, world.ours.project, [DealRow("D-5", "open", call_id=call.id)])
    assert call.deal_value == 75


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (DealRow("D-1", "maybe", phone="+380671234567"), "status"),
        (DealRow("D-1", "won", Decimal("-1"), phone="+380671234567"), "revenue"),
        (DealRow("D-1", "won", phone="+380671234567", currency="EUR"), "currency"),
        (DealRow("D-1", "won", phone="not a phone"), "phone"),
        (DealRow("D-1", "won"), "call_id"),
        (DealRow(" ", "won", phone="+380671234567"), "deal_id"),
    ],
)
def test_a_bad_deal_is_refused_naming_the_row(
    db: Session, world: World, row: DealRow, column: str
) -> None:
    good = DealRow("D-0", "won", Decimal("1"), phone="+380671234567")
    with pytest.raises(InvalidInput) as caught:
        upsert_deals(db, world.ours.project, [good, row])
    assert caught.value.field == f"row 2, column {column}"
    assert list_deals(db, world.ours.project) == []


def test_a_deal_id_twice_in_one_import_is_refused(db: Session, world: World) -> None:
    rows = [DealRow("D-1", "won", phone="+380671234567")] * 2
    with pytest.raises(InvalidInput) as caught:
        upsert_deals(db, world.ours.project, rows)
    assert caught.value.field == "row 2, column deal_id"
