"""Money by (source, campaign) under each attribution model, on the hand-computed fixture of
tests/services/money/fixture.py (its docstring has the table of deals and touches)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy.orm import Session

from ringtrail.domain.money import AttributionModel, Money
from ringtrail.domain.reports.periods import Period
from ringtrail.services.money.deals import DealRow, upsert_deals
from ringtrail.services.money.returns import money_by, split_amount
from ringtrail.services.projects import update_project
from ringtrail.services.reports.engine import ReportFilters, ReportScope, rolled_up_days
from ringtrail.services.reports.rollups import rebuild_project, refresh_dirty
from ringtrail.storage.models import MoneyRollup
from tests.conftest import World
from tests.services.money.fixture import (
    DAY,
    DIRECT,
    FACEBOOK,
    GOOGLE,
    MARCH_1,
    NONE,
    PRINT,
    at,
    build_fixture,
)


def m(cost: str, revenue: str, customers: float) -> Money:
    return Money(Decimal(cost), Decimal(revenue), customers)


EXPECTED: dict[AttributionModel, dict[tuple[str, str], Money]] = {
    AttributionModel.LAST_NON_DIRECT: {
        GOOGLE: m("100", "90", 1),
        FACEBOOK: m("50", "420", 2),
        PRINT: m("0", "60", 1),
        NONE: m("0", "40", 1),
    },
    AttributionModel.FIRST: {
        GOOGLE: m("100", "390", 2),
        FACEBOOK: m("50", "120", 1),
        PRINT: m("0", "60", 1),
        NONE: m("0", "40", 1),
    },
    AttributionModel.LAST: {
        GOOGLE: m("100", "0", 0),
        FACEBOOK: m("50", "120", 1),
        DIRECT: m("0", "390", 2),
        PRINT: m("0", "60", 1),
        NONE: m("0", "40", 1),
    },
    AttributionModel.LINEAR: {
        GOOGLE: m("100", "145", 1 / 3 + 1 / 2),
        FACEBOOK: m("50", "220", 1 / 3 + 1),
        DIRECT: m("0", "145", 1 / 3 + 1 / 2),
        PRINT: m("0", "60", 1),
        NONE: m("0", "40", 1),
    },
}


def normalised(money: dict[tuple[str, str], Money]) -> dict[tuple[str, str], tuple[object, ...]]:
    return {
        key: (value.cost, value.revenue, round(value.customers, 9)) for key, value in money.items()
    }


@pytest.mark.parametrize("model", list(AttributionModel))
def test_money_by_under_each_model(db: Session, world: World, model: AttributionModel) -> None:
    project = world.ours.project
    build_fixture(db, project)
    got = money_by(db, ReportScope.of(project, DAY), model)
    assert normalised(got) == normalised(EXPECTED[model])
    assert sum((v.revenue for v in got.values()), Decimal(0)) == Decimal("610")


def test_source_and_campaign_filters_narrow_costs_and_revenue(db: Session, world: World) -> None:
    project = world.ours.project
    build_fixture(db, project)
    scope = ReportScope.of(project, DAY, ReportFilters(sources=("google",)))
    assert normalised(money_by(db, scope, AttributionModel.FIRST)) == {
        GOOGLE: (Decimal("100.00"), Decimal("390.00"), 2)
    }
    scope = ReportScope.of(project, DAY, ReportFilters(campaigns=("spring",)))
    assert set(money_by(db, scope, AttributionModel.LINEAR)) == {FACEBOOK}


def test_the_next_local_day_holds_the_call_after_midnight(db: Session, world: World) -> None:
    project = world.ours.project
    build_fixture(db, project)
    next_day = Period(MARCH_1 + timedelta(days=1), MARCH_1 + timedelta(days=1))
    got = money_by(db, ReportScope.of(project, next_day), AttributionModel.LAST_NON_DIRECT)
    # Call E (visitor A) after midnight: A's last non-direct visit before it is bing/late.
    assert normalised(got) == {
        GOOGLE: (Decimal("999.00"), Decimal(0), 0),
        ("bing", "late"): (Decimal(0), Decimal("1000.00"), 1),
    }


def test_switching_the_projects_model_recomputes_history(db: Session, world: World) -> None:
    project = world.ours.project
    build_fixture(db, project)
    scope = ReportScope.of(project, DAY)

    def google_revenue() -> Decimal:
        model = AttributionModel(project.attribution_model)
        return money_by(db, scope, model)[GOOGLE].revenue

    assert google_revenue() == Decimal("90")
    update_project(db, project, {"attribution_model": "first"})
    assert google_revenue() == Decimal("390")


WEEK = Period(MARCH_1 - timedelta(days=3), MARCH_1 + timedelta(days=3))
FILTERS = [
    ReportFilters(),
    ReportFilters(sources=("google",)),
    ReportFilters(sources=("facebook", "(none)")),
    ReportFilters(campaigns=("spring",)),
]


@pytest.mark.parametrize("model", list(AttributionModel))
def test_money_rollups_give_the_raw_figures(
    db: Session, world: World, model: AttributionModel
) -> None:
    project = world.ours.project
    build_fixture(db, project)
    rebuild_project(db, project.id, now=at_noon(MARCH_1 + timedelta(days=5)))
    assert db.query(MoneyRollup).filter_by(project_id=project.id).count() > 0
    for period in (DAY, WEEK):
        built = {day for day in period.dates() if day >= MARCH_1}  # from the first call on
        assert rolled_up_days(db, project.id, period) == built
        for filters in FILTERS:
            scope = ReportScope.of(project, period, filters)
            fast = money_by(db, scope, model)
            assert normalised(fast) == normalised(money_by(db, scope, model, raw=True)), filters
    day = money_by(db, ReportScope.of(project, DAY), model)
    assert normalised(day) == normalised(EXPECTED[model])


def test_a_deal_import_marks_its_days_and_the_job_credits_it_again(
    db: Session, world: World
) -> None:
    project = world.ours.project
    build_fixture(db, project)
    rebuild_project(db, project.id, now=at_noon(MARCH_1 + timedelta(days=5)))
    scope = ReportScope.of(project, DAY)
    model = AttributionModel.LAST_NON_DIRECT
    assert money_by(db, scope, model)[FACEBOOK].revenue == Decimal("420")
    # D2 (call B, facebook/spring) is lost after all; D7 (unlinked) reopens.
    upsert_deals(
        db,
        project,
        [
            DealRow("D2", "lost", Decimal("120"), phone="+380501112233"),
            DealRow("D7", "open", Decimal("40"), phone="+380661234000", closed_at=at(12)),
        ],
    )
    db.commit()
    assert MARCH_1 not in rolled_up_days(db, project.id, DAY)  # stale: credited raw
    stale = normalised(money_by(db, scope, model))
    assert stale[FACEBOOK][1] == Decimal("300")
    assert NONE not in stale
    assert refresh_dirty(db) >= 1
    assert rolled_up_days(db, project.id, DAY) == {MARCH_1}
    assert normalised(money_by(db, scope, model)) == stale
    assert stale == normalised(money_by(db, scope, model, raw=True))


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_shares_of_an_amount_never_lose_a_cent() -> None:
    thirds = [(GOOGLE, Fraction(1, 3)), (FACEBOOK, Fraction(1, 3)), (DIRECT, Fraction(1, 3))]
    parts = split_amount(Decimal("100.00"), thirds)
    assert parts == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert sum(parts) == Decimal("100.00")
