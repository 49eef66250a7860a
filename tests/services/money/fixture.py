"""Test helper: the small hand-computed money fixture (costs, calls, leads, visits, deals).

The project is in Kyiv (UTC+2 in March). The period is the local day 2025-03-01.

| deal | status | revenue | started by                        | touches before it               |
|------|--------|--------:|-----------------------------------|---------------------------------|
| D1   | won    |     300 | call A 10:00 UTC (visitor A)      | google/brand, facebook, direct  |
| D2   | won    |     120 | call B 11:00 UTC (visitor B)      | facebook/spring                 |
| D3   | won    |      60 | static call C, yellowpages/print  | the call itself                 |
| D4   | won    |      90 | form lead 07:00 UTC (visitor C)   | google/brand, direct            |
| D5   | won    |    1000 | call E 22:30 UTC = 00:30 on 03-02 | outside the period              |
| D6   | lost   |     500 | call B                            | lost deals bring nothing        |
| D7   | won    |      40 | nothing (closed 12:00 UTC)        | none: ("(none)", "")            |

A bing visit of visitor A after call A does not count for D1.
Costs on 03-01: google/brand 100, facebook/spring 50; google/brand 999 on 03-02 is outside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.services.money.costs import CostRow, import_costs
from ringtrail.services.money.deals import DealRow, upsert_deals
from ringtrail.storage.models import Project
from tests.call_rows import add_call
from tests.services.money.rows import add_lead, add_visit, add_visitor

MARCH_1 = date(2025, 3, 1)
DAY = Period(MARCH_1, MARCH_1)
GOOGLE = ("google", "brand")
FACEBOOK = ("facebook", "spring")
DIRECT = ("(direct)", "")
PRINT = ("yellowpages", "print")
NONE = ("(none)", "")


def at(hour: int, minute: int = 0) -> datetime:
    """An instant on 2025-03-01, UTC."""
    return datetime(2025, 3, 1, hour, minute, tzinfo=UTC)


def build_fixture(db: Session, project: Project) -> None:
    """Store the fixture's costs, visitors, visits, calls, the lead and the deals."""
    import_costs(
        db,
        project,
        [
            CostRow(MARCH_1, "google", Decimal("100"), campaign="brand"),
            CostRow(MARCH_1, "facebook", Decimal("50"), campaign="spring"),
            CostRow(MARCH_1 + timedelta(days=1), "google", Decimal("999"), campaign="brand"),
        ],
    )
    a = add_visitor(db, project, at(8))
    add_visit(db, a, at(8), "google", "cpc", "brand")
    add_visit(db, a, at(9), "facebook", "cpc", "spring")
    add_visit(db, a, at(9, 30), "(direct)", "(none)")
    add_visit(db, a, at(10, 30), "bing", "cpc", "late")
    call_a = add_call(db, project, started_at=at(10), visitor_id=a.id, attribution_kind="session")

    b = add_visitor(db, project, at(7))
    add_visit(db, b, at(7), "facebook", "cpc", "spring")
    call_b = add_call(
        db, project, started_at=at(11), visitor_id=b.id, attribution_kind="session",
        caller_e164="+380501112233",
    )  # fmt: skip

    call_c = add_call(
        db, project, started_at=at(12), attribution_kind="static", source="yellowpages",
        medium="print", campaign="print", caller_e164="+380631112233",
    )  # fmt: skip

    c = add_visitor(db, project, at(6))
    add_visit(db, c, at(6), "google", "cpc", "brand")
    add_visit(db, c, at(6, 30), "(direct)", "(none)")
    lead = add_lead(db, project, at(7), visitor_id=c.id, phone_e164="+380971112233")

    call_e = add_call(db, project, started_at=at(22, 30), visitor_id=a.id)

    upsert_deals(
        db,
        project,
        [
            DealRow("D1", "won", Decimal("300"), call_id=call_a.id),
            DealRow("D2", "won", Decimal("120"), call_id=call_b.id),
            DealRow("D3", "won", Decimal("60"), call_id=call_c.id),
            DealRow("D4", "won", Decimal("90"), phone="+380971112233"),
            DealRow("D5", "won", Decimal("1000"), call_id=call_e.id),
            DealRow("D6", "lost", Decimal("500"), call_id=call_b.id),
            DealRow("D7", "won", Decimal("40"), phone="+380661234000", closed_at=at(12)),
        ],
    )
    assert lead.id is not None
