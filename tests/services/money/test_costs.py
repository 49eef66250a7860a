"""Ad costs in: a re-imported day replaces its rows, never doubles them, and one source never
wipes another's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.services.errors import InvalidInput
from ringtrail.services.money.costs import CostRow, import_costs, list_costs, parse_costs_csv
from ringtrail.storage.models import AdCost
from tests.conftest import World

MARCH_1 = date(2025, 3, 1)
MARCH_2 = date(2025, 3, 2)


def total_cost(db: Session, project_id: int) -> Decimal:
    return db.scalar(
        select(func.sum(AdCost.cost)).where(AdCost.project_id == project_id)
    ) or Decimal(0)


def test_importing_a_day_twice_never_doubles_it(db: Session, world: World) -> None:
    project = world.ours.project
    rows = [
        CostRow(MARCH_1, "google", Decimal("100"), campaign="brand"),
        CostRow(MARCH_1, "google", Decimal("40"), campaign="generic"),
    ]
    first = import_costs(db, project, rows)
    second = import_costs(db, project, rows)
    assert (first.rows, first.days_replaced) == (2, 0)
    assert (second.rows, second.days_replaced) == (2, 1)
    assert total_cost(db, project.id) == Decimal("140")


def test_a_reimport_replaces_the_whole_day_of_that_source(db: Session, world: World) -> None:
    project = world.ours.project
    import_costs(
        db,
        project,
        [
            CostRow(MARCH_1, "google", Decimal("100"), campaign="brand"),
            CostRow(MARCH_1, "google", Decimal("40"), campaign="paused-later"),
            CostRow(MARCH_2, "google", Decimal("70"), campaign="brand"),
        ],
    )
    import_costs(db, project, [CostRow(MARCH_1, "google", Decimal("90"), campaign="brand")])
    rows = list_costs(db, project, Period(MARCH_1, MARCH_2))
    assert [(r.day, r.campaign, r.cost) for r in rows] == [
        (MARCH_1, "brand", Decimal("90.00")),
        (MARCH_2, "brand", Decimal("70.00")),
    ]


def test_googles_import_never_wipes_metas(db: Session, world: World) -> None:
    project = world.ours.project
    import_costs(db, project, [CostRow(MARCH_1, "facebook", Decimal("50"), campaign="spring")])
    import_costs(db, project, [CostRow(MARCH_1, "google", Decimal("100"), campaign="brand")])
    import_costs(db, project, [CostRow(MARCH_1, "google", Decimal("100"), campaign="brand")])
    assert total_cost(db, project.id) == Decimal("150")


def test_lines_of_one_import_with_the_same_campaign_are_added(db: Session, world: World) -> None:
    project = world.ours.project
    result = import_costs(
        db,
        project,
        parse_costs_csv(
            "date,source,campaign,cost,clicks\n"
            "2025-03-01,google,brand,10.25,3\n"
            "2025-03-01,google,brand,4.75,2\n"
        ),
    )
    assert result.rows == 1
    [row] = list_costs(db, project, Period(MARCH_1, MARCH_1))
    assert (row.cost, row.clicks, row.currency) == (Decimal("15.00"), 5, "UAH")


def test_another_currency_is_refused_naming_the_row_and_nothing_is_written(
    db: Session, world: World
) -> None:
    project = world.ours.project
    with pytest.raises(InvalidInput) as caught:
        import_costs(
            db,
            project,
            [
                CostRow(MARCH_1, "google", Decimal("10"), currency="uah"),
                CostRow(MARCH_1, "facebook", Decimal("10"), currency="USD"),
            ],
        )
    assert caught.value.field == "row 2, column currency"
    assert "USD" in caught.value.message
    assert total_cost(db, project.id) == 0


def test_a_csv_line_is_named_by_its_line_number(db: Session, world: World) -> None:
    rows = parse_costs_csv(
        "date,source,cost,currency\n2025-03-01,google,1,UAH\n2025-03-01,x,1,EUR\n"
    )
    with pytest.raises(InvalidInput) as caught:
        import_costs(db, world.ours.project, rows)
    assert caught.value.field == "line 3, column currency"


def test_costs_belong_to_their_project(db: Session, world: World) -> None:
    import_costs(db, world.ours.project, [CostRow(MARCH_1, "google", Decimal("10"))])
    import_costs(db, world.outsider.project, [CostRow(MARCH_1, "google", Decimal("99"))])
    assert total_cost(db, world.ours.project.id) == Decimal("10")
    assert [r.cost for r in list_costs(db, world.outsider.project, Period(MARCH_1, MARCH_1))] == [
        Decimal("99.00")
    ]
