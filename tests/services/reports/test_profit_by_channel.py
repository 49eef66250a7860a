"""Profit by source sets each cost against the revenue of its own source and channel, and says
"no cost data" (None) where there is none, never 0.00.

The world: Google Ads (google / cpc, campaign "brand") cost 100 on 2025-03-01 and its visitor's
call brought nothing; an organic Google visit (google / organic) led to a call and a won deal
of 2,200; a Facebook post (facebook / social) led to a call and a won deal of 300, with no
cost data at all. Lumped under one "google" row, ROMI would read +2,100% while the only
campaign with costs lost all its money.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ringtrail.domain.money import AttributionModel, Money, channel_key
from ringtrail.domain.reports.periods import Period
from ringtrail.services.money.costs import CostRow, import_costs
from ringtrail.services.money.deals import DealRow, upsert_deals
from ringtrail.services.money.returns import money_by_channel
from ringtrail.services.reports.catalog import build_overview, build_report
from ringtrail.services.reports.engine import ReportFilters, ReportScope
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage.models import Project
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.money.rows import add_visit, add_visitor

DAY = Period(datetime(2025, 3, 1).date(), datetime(2025, 3, 1).date())
NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
D = Decimal


def at(hour: int) -> datetime:
    return datetime(2025, 3, 1, hour, tzinfo=UTC)


def build(db: Session, project: Project, *, with_costs: bool = True) -> None:
    if with_costs:
        import_costs(db, project, [CostRow(DAY.start, "google", D("100"), campaign="brand")])
    paid = add_visitor(db, project, at(8))
    add_visit(db, paid, at(8), "google", "cpc", "brand")
    add_call(db, project, started_at=at(9), visitor_id=paid.id, attribution_kind="session",
             source="google", medium="cpc", campaign="brand", caller_e164="+380501110001",
             is_target=True)  # fmt: skip
    organic = add_visitor(db, project, at(10))
    add_visit(db, organic, at(10), "google", "organic")
    won = add_call(db, project, started_at=at(11), visitor_id=organic.id,
                   attribution_kind="session", source="google", medium="organic",
                   caller_e164="+380501110002", is_target=True)  # fmt: skip
    social = add_visitor(db, project, at(12))
    add_visit(db, social, at(12), "facebook", "social")
    post = add_call(db, project, started_at=at(13), visitor_id=social.id,
                    attribution_kind="session", source="facebook", medium="social",
                    caller_e164="+380501110003", is_target=True)  # fmt: skip
    upsert_deals(
        db,
        project,
        [
            DealRow("organic", "won", D("2200"), call_id=won.id),
            DealRow("social", "won", D("300"), call_id=post.id),
        ],
    )
    db.commit()


def by_source(db: Session, project: Project) -> dict[tuple[str, str], dict[str, Any]]:
    report = build_report(db, project, "profit", DAY, now=NOW)
    return {
        (row.cells["source"], row.cells["channel"]): row.cells
        for row in report.table("by_source").rows
    }


@pytest.mark.parametrize("rolled", [False, True], ids=["raw", "rolled-up"])
def test_ads_spend_meets_only_ads_revenue(db: Session, world: World, rolled: bool) -> None:
    project = world.ours.project
    build(db, project)
    if rolled:
        rebuild_project(db, project.id, now=NOW)
    rows = by_source(db, project)
    assert set(rows) == {
        ("google", "Paid search"),
        ("google", "Organic search"),
        ("facebook", "Organic social"),
    }
    ads = rows[("google", "Paid search")]
    assert (ads["cost"], ads["revenue"], ads["profit"]) == (D("100.00"), D("0.00"), D("-100.00"))
    assert ads["romi"] == -1.0
    assert (ads["calls"], ads["target"], ads["cost_per_target"]) == (1, 1, D("100.00"))
    organic = rows[("google", "Organic search")]
    assert organic["revenue"] == D("2200.00")
    assert organic["calls"] == 1


def test_revenue_without_cost_data_has_no_cost_figures(db: Session, world: World) -> None:
    project = world.ours.project
    build(db, project)
    rows = by_source(db, project)
    for key in (("google", "Organic search"), ("facebook", "Organic social")):
        cells = rows[key]
        assert cells["revenue"] > 0
        for figure in ("cost", "profit", "romi", "cost_per_call", "cost_per_target",
                       "cost_per_lead", "cost_per_customer"):  # fmt: skip
            assert cells[figure] is None, (key, figure)


def test_no_cost_data_at_all_is_said_in_headlines_and_campaigns(db: Session, world: World) -> None:
    project = world.ours.project
    build(db, project, with_costs=False)
    profit = build_report(db, project, "profit", DAY, now=NOW)
    figures = {h.key: h.value for h in profit.headlines}
    assert figures["revenue"] == D("2500.00")
    assert (figures["cost"], figures["romi"], figures["cost_per_target"]) == (None, None, None)
    assert profit.table("by_source").totals is not None
    assert profit.table("by_source").totals["cost_per_lead"] is None
    campaigns = build_report(db, project, "campaigns", DAY, now=NOW)
    assert {h.key: h.value for h in campaigns.headlines}["cost_per_target"] is None
    for row in campaigns.tables[0].rows:
        assert (row.cells["cost"], row.cells["cost_per_call"], row.cells["cost_per_target"]) == (
            None, None, None,
        )  # fmt: skip
    overview = build_overview(db, project, DAY)
    assert {h.key: h.value for h in overview.headlines}.get("cost_per_target") is None


def test_money_by_channel_keeps_the_source_and_campaign_filters(db: Session, world: World) -> None:
    project = world.ours.project
    build(db, project)
    scope = ReportScope.of(project, DAY, ReportFilters(sources=("google",), campaigns=("brand",)))
    money = money_by_channel(db, scope, AttributionModel.LAST_NON_DIRECT)
    assert money == {channel_key("google", "cpc"): Money(D("100.00"), D("0"), 0, costed=True)}
