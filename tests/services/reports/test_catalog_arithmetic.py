"""Every report's figures on a small world worked out by hand (hand_fixture.py).

The expected numbers below were computed on paper from the table in hand_fixture.py, not by
the code under test. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.reports.catalog import REPORT_IDS, build_overview, build_report
from ringtrail.services.reports.engine import ReportFilters
from ringtrail.services.reports.model import Report
from tests.services.reports.hand_fixture import PERIOD, PREVIOUS, HandWorld, build_hand_world

WHOLE = {"from": "2025-01-10", "to": "2025-01-12"}
"""The drill-down period of the whole report: `to` is exclusive, as in the calls log."""
D = Decimal


@pytest.fixture
def hand(db: Session) -> HandWorld:
    return build_hand_world(db)


def run(db: Session, hand: HandWorld, report_id: str, **options: Any) -> Report:
    filters = options.pop("filters", None)
    return build_report(db, hand.project, report_id, PERIOD, filters, **options)


def rows(report: Report, table: str | None = None) -> list[dict[str, Any]]:
    chosen = report.tables[0] if table is None else report.table(table)
    return [row.cells for row in chosen.rows]


def column(report: Report, key: str, table: str | None = None) -> list[Any]:
    return [cells[key] for cells in rows(report, table)]


def headlines(report: Report) -> dict[str, tuple[Any, Any]]:
    return {item.key: (item.value, item.previous) for item in report.headlines}


def test_the_catalogue_lists_every_report_once() -> None:
    assert REPORT_IDS == (
        "keywords", "campaigns", "lead_mix", "origin", "duration", "geography", "uniqueness",
        "profit", "sources", "missed", "heatmap", "quality", "pool_health", "callbacks",
    )  # fmt: skip


def test_overview_headlines_compare_with_the_previous_period(db: Session, hand: HandWorld) -> None:
    report = build_overview(db, hand.project, PERIOD)
    assert report.period == PERIOD and report.previous_period == PREVIOUS
    figures = headlines(report)
    # C1..C6 now; P1 and P2 before (P1 is 23:30 local on the 9th, the 10th in UTC).
    assert figures["calls"] == (6, 2)
    assert figures["target"] == (3, 1)
    assert figures["missed_share"] == (pytest.approx(2 / 6), 0.5)
    assert figures["unique_share"] == (pytest.approx(5 / 6), 1.0)
    assert figures["average_wait_seconds"] == (12.5, 30.0)  # (10+20+5+15)/4 and 30/1
    assert figures["cost"] == (D("75.00"), D("40.00"))
    assert figures["revenue"] == (D("500.00"), D("50.00"))
    assert figures["romi"] == (pytest.approx(425 / 75), 0.25)
    assert figures["cost_per_target"] == (D("25.00"), D("40.00"))
    calls = next(item for item in report.headlines if item.key == "calls")
    assert calls.change == 2.0  # 6 against 2: +200 %
    per_day = rows(report, "calls_per_day")
    assert [(r["calls"], r["target"], r["missed"]) for r in per_day] == [(2, 2, 0), (4, 1, 2)]
    assert report.table("calls_per_day").rows[1].drill == {"from": "2025-01-11", "to": "2025-01-12"}
    assert column(report, "source", "by_source") == ["google", "yelp", ""]
    assert column(report, "calls", "by_source") == [3, 2, 1]


def test_local_days_not_utc_days_decide_where_a_call_counts(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "missed")
    # C2 (23:30 Fri) and C3 (00:30 Sat) are both 11 January in UTC; C5 (23:30 Sat) is the 12th.
    assert [(r["day"].isoformat(), r["calls"]) for r in rows(report)] == [
        ("2025-01-10", 2),
        ("2025-01-11", 4),
    ]


def test_keywords(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "keywords")
    assert column(report, "keyword") == ["", "plumber", "drain"]
    assert column(report, "calls") == [3, 2, 1]
    assert column(report, "target") == [1, 2, 0]
    assert column(report, "target_share") == [0.5, 1.0, None]
    assert report.tables[0].totals is not None and report.tables[0].totals["calls"] == 6
    assert headlines(report)["calls_with_keyword"] == (3, 1)
    assert report.tables[0].rows[1].drill == {**WHOLE, "keyword": "plumber"}


def test_campaigns_with_cost_per_call_and_target_call(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "campaigns")
    assert [(r["source"], r["campaign"]) for r in rows(report)] == [
        ("google", "spring"),
        ("yelp", ""),
        ("google", "winter"),
        ("", ""),
    ]
    assert column(report, "calls") == [2, 2, 1, 1]
    assert column(report, "target") == [2, 1, 0, 0]
    # Costs of the 10th and 11th only: spring 30+20, yelp 10, winter 15 (the 12th's 99 is out).
    # The calls without a source have no cost data: no figure, never 0.00.
    assert column(report, "cost") == [D("50.00"), D("10.00"), D("15.00"), None]
    assert column(report, "cost_per_call") == [D("25.00"), D("5.00"), D("15.00"), None]
    assert column(report, "cost_per_target") == [D("25.00"), D("10.00"), None, None]
    totals = report.tables[0].totals
    assert totals is not None
    assert (totals["cost"], totals["cost_per_call"], totals["cost_per_target"]) == (
        D("75.00"),
        D("12.50"),
        D("25.00"),
    )
    assert headlines(report)["cost"] == (D("75.00"), D("40.00"))
    assert report.tables[0].rows[0].drill == {**WHOLE, "source": "google", "campaign": "spring"}


def test_lead_mix(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "lead_mix")
    # Fri: C1, C2 and a form; Sat: C4, a callback and a form at 23:50 (the 12th in UTC).
    assert [(r["calls"], r["forms"], r["callbacks"], r["leads"]) for r in rows(report)] == [
        (2, 1, 0, 3),
        (1, 1, 1, 3),
    ]
    assert column(report, "calls_share") == [pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert headlines(report)["calls_share"] == (0.5, 0.0)
    assert headlines(report)["leads"] == (6, 1)


def test_origin(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "origin")
    assert column(report, "calls") == [2, 3, 1]  # ad (C4, C5), site (C1-C3), unknown (C6)
    assert [row.drill["origin"] for row in report.tables[0].rows if row.drill] == [
        "ad",
        "site",
        "unknown",
    ]
    assert headlines(report)["site_share"] == (0.5, 0.5)


def test_duration_buckets_and_longest_calls(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "duration")
    # 0-30s C5, 30s-1m C4, 3-5m C1, 10m+ C2, not answered C3 and C6.
    assert column(report, "calls") == [1, 1, 0, 1, 0, 1, 2]
    assert report.tables[0].rows[5].drill == {**WHOLE, "duration": "10m+"}
    assert report.tables[0].rows[6].drill == {**WHOLE, "duration": "not_answered"}
    assert headlines(report)["average_talk_seconds"] == (241.25, 100.0)
    longest = rows(report, "longest")
    c1, c2 = hand.calls["C1"].id, hand.calls["C2"].id
    assert [r["talk_seconds"] for r in longest] == [700, 200, 45, 20]
    assert longest[0]["call_id"] == c2
    assert longest[0]["recording"] == f"/api/v1/projects/{hand.project.id}/calls/{c2}/recording"
    assert longest[1]["call_id"] == c1 and longest[1]["recording"] is None  # not stored yet


def test_geography(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "geography")
    assert list(zip(column(report, "caller_region"), column(report, "calls"), strict=True)) == [
        ("California", 3),
        ("", 2),
        ("Nevada", 1),
    ]
    visitors = rows(report, "visitor_region")
    assert [(r["visitor_region"], r["calls"]) for r in visitors] == [
        ("", 4),
        ("California", 1),
        ("Oregon", 1),
    ]
    assert report.table("visitor_region").rows[2].drill == {**WHOLE, "visitor_region": "Oregon"}


def test_uniqueness_shares(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "uniqueness")
    assert column(report, "calls") == [5, 3, 3, 2, 1]
    figures = headlines(report)
    assert figures["unique_share"] == (pytest.approx(5 / 6), 1.0)
    assert figures["unique_target_share"] == (0.5, 0.5)
    assert figures["first_target_share"] == (pytest.approx(2 / 6), 0.5)
    assert figures["repeat_share"] == (pytest.approx(1 / 6), 0.0)
    drills = [row.drill for row in report.tables[0].rows]
    assert drills[1] == {**WHOLE, "unique": "true", "target": "true"}
    assert drills[3] == {**WHOLE, "first_time": "true", "target": "true"}
    assert drills[4] == {**WHOLE, "unique": "false"}
    by_day = rows(report, "by_day")
    assert [(r["unique_target"], r["first_target"], r["repeat"]) for r in by_day] == [
        (2, 2, 0),
        (1, 0, 1),
    ]


def test_profit_under_the_default_model(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "profit")
    # Last non-direct: D1 (300) to google/spring, D2 (120) to yelp, D3 (80) to google/spring.
    by_channel = {(r["source"], r["channel"]): r for r in rows(report, "by_source")}
    assert set(by_channel) == {("google", "Paid search"), ("yelp", "Referral"), ("", "Other")}
    by_source = {source: r for (source, _channel), r in by_channel.items()}
    google = by_source["google"]
    assert (google["cost"], google["revenue"], google["profit"]) == (
        D("65.00"),
        D("380.00"),
        D("315.00"),
    )
    assert google["romi"] == pytest.approx(315 / 65)
    assert (google["calls"], google["target"], google["leads"], google["customers"]) == (3, 2, 4, 2)
    assert google["cost_per_call"] == D("21.67")
    assert google["cost_per_target"] == D("32.50")
    assert google["cost_per_lead"] == D("16.25")
    assert google["cost_per_customer"] == D("32.50")
    assert by_source["yelp"]["romi"] == 11.0
    campaigns = {(r["source"], r["campaign"]): r for r in rows(report, "by_campaign")}
    assert campaigns[("google", "winter")]["profit"] == D("-15.00")
    assert campaigns[("google", "winter")]["romi"] == -1.0
    assert campaigns[("google", "spring")]["cost_per_lead"] == D("16.67")  # 50 / 3
    figures = headlines(report)
    assert figures["profit"] == (D("425.00"), D("10.00"))
    assert figures["romi"] == (pytest.approx(425 / 75), 0.25)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("last_non_direct", {("google", "spring"): "380.00", ("yelp", ""): "120.00"}),
        (
            "first",
            {("google", "winter"): "300.00", ("google", "spring"): "80.00", ("yelp", ""): "120.00"},
        ),
        (
            "last",
            {("(direct)", ""): "300.00", ("google", "spring"): "80.00", ("yelp", ""): "120.00"},
        ),
        (
            "linear",
            {
                ("google", "winter"): "100.00",
                ("google", "spring"): "180.00",
                ("(direct)", ""): "100.00",
                ("yelp", ""): "120.00",
            },
        ),
    ],
)
def test_revenue_follows_the_attribution_model(
    db: Session, hand: HandWorld, model: str, expected: dict[tuple[str, str], str]
) -> None:
    report = run(db, hand, "profit", model=model)
    revenue = {
        (r["source"], r["campaign"]): r["revenue"]
        for r in rows(report, "by_campaign")
        if r["revenue"]
    }
    assert revenue == {key: D(value) for key, value in expected.items()}
    assert headlines(report)["revenue"][0] == D("500.00")  # a model moves revenue, never adds


def test_linear_customers_and_cost_per_customer(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "profit", model="linear")
    google = next(r for r in rows(report, "by_source") if r["source"] == "google")
    assert google["customers"] == pytest.approx(1 / 3 + 1 / 3 + 1)  # D1 shares, D3 whole
    assert google["cost_per_customer"] == D("39.00")  # 65 / (5/3)
    assert google["revenue"] == D("280.00")
    first = run(db, hand, "profit", model="first")
    winter = next(r for r in rows(first, "by_campaign") if r["campaign"] == "winter")
    assert winter["romi"] == 19.0  # (300 - 15) / 15


def test_an_unknown_model_or_grouping_or_report_is_refused(db: Session, hand: HandWorld) -> None:
    with pytest.raises(InvalidInput) as model:
        run(db, hand, "profit", model="u-shaped")
    assert model.value.field == "model"
    with pytest.raises(InvalidInput) as grouping:
        run(db, hand, "sources", by="weather")
    assert grouping.value.field == "by"
    with pytest.raises(NotFound):
        run(db, hand, "horoscope")


def test_sources_with_visits_and_conversion(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "sources")
    # Visits: google 5 (the bot and Sunday's are left out), (direct) 1.
    assert [(r["value"], r["visits"], r["calls"]) for r in rows(report)] == [
        ("google", 5, 3),
        ("yelp", 0, 2),
        ("", 0, 1),
        ("(direct)", 1, 0),
    ]
    assert column(report, "conversion") == [0.6, None, None, 0.0]
    assert headlines(report)["visits"] == (6, 0)
    pages = run(db, hand, "sources", by="landing_page")
    assert [(r["value"], r["visits"], r["calls"]) for r in rows(pages)] == [
        ("", 0, 3),
        ("/offer", 3, 2),
        ("/", 2, 1),
        ("/about", 1, 0),
    ]
    assert pages.tables[0].rows[1].drill == {**WHOLE, "landing_page": "/offer"}


def test_missed_calls_wait_and_callbacks(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "missed")
    assert [(r["answered"], r["missed"], r["needs_callback"]) for r in rows(report)] == [
        (2, 0, 0),
        (2, 2, 1),
    ]
    assert column(report, "average_wait_seconds") == [15.0, 10.0]
    assert column(report, "missed_share") == [0.0, 0.5]
    figures = headlines(report)
    assert figures["missed"] == (2, 1)
    assert figures["needs_callback"] == (1, 1)


def test_heatmap_uses_local_weekday_and_hour(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "heatmap")
    grid = {r["weekday"]: r for r in rows(report, "grid")}
    assert (grid["Friday"]["h09"], grid["Friday"]["h23"], grid["Friday"]["calls"]) == (1, 1, 2)
    assert (grid["Saturday"]["h00"], grid["Saturday"]["h23"], grid["Saturday"]["calls"]) == (
        1,
        1,
        4,
    )
    cells = report.table("cells").rows
    assert [row.drill["hour_of_week"] for row in cells if row.drill] == [
        "4-09", "4-23", "5-00", "5-10", "5-14", "5-23",
    ]  # fmt: skip


def test_quality_against_the_project_goal(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "quality")  # the project's goal is 60 %
    assert [(r["source"], r["judged"], r["target"], r["meets_goal"]) for r in rows(report)] == [
        ("google", 2, 2, "Yes"),
        ("yelp", 2, 1, "No"),
        ("", 0, 0, "Not judged yet"),
    ]
    assert headlines(report)["target_share"] == (0.75, 1.0)
    assert headlines(report)["goal"][0] == 0.6


def test_pool_health(db: Session, hand: HandWorld) -> None:
    report = run(db, hand, "pool_health")
    (pool,) = rows(report)
    assert (pool["pool"], pool["numbers"], pool["available"], pool["overflows_7d"]) == (
        "Site pool",
        2,
        2,
        0,
    )
    assert pool["utilisation"] == 0.0


def test_filters_narrow_figures_and_ride_along_in_every_drill(db: Session, hand: HandWorld) -> None:
    google = ReportFilters(sources=("google",))
    report = run(db, hand, "keywords", filters=google)
    assert headlines(report)["calls"] == (3, 1)
    assert report.tables[0].rows[0].drill == {**WHOLE, "source": "google", "keyword": "plumber"}
    campaigns = run(db, hand, "campaigns", filters=google)
    assert headlines(campaigns)["cost"] == (D("65.00"), D("40.00"))

    missed_only = run(db, hand, "missed", filters=ReportFilters(statuses=("missed",)))
    assert headlines(missed_only)["calls"] == (1, 1)  # C3 now, P2 before; C6 was busy
    assert missed_only.tables[0].rows[0].drill == {
        "from": "2025-01-10",
        "to": "2025-01-11",
        "status": "missed",
    }
    both = run(db, hand, "origin", filters=ReportFilters(statuses=("missed", "busy")))
    assert both.tables[0].rows[2].drill == {
        **WHOLE,
        "status": ["missed", "busy"],
        "origin": "unknown",
    }
    assert both.tables[0].rows[2].drill_query == (
        "from=2025-01-10&to=2025-01-12&status=missed&status=busy&origin=unknown"
    )

    vip = run(db, hand, "uniqueness", filters=ReportFilters(tags=("vip",)))
    assert headlines(vip)["calls"][0] == 1  # C5
    assert vip.tables[0].rows[4].drill == {**WHOLE, "tag": "vip", "unique": "false"}

    first = run(db, hand, "uniqueness", filters=ReportFilters(first_time=True))
    assert headlines(first)["calls"] == (3, 2)  # C1, C2, C6; P1, P2
    assert first.tables[0].rows[0].drill == {**WHOLE, "first_time": "true", "unique": "true"}


def test_every_report_keeps_to_the_project(db: Session, hand: HandWorld) -> None:
    other = build_hand_world(db, name="Other Plumbing")
    assert other.project.id != hand.project.id
    for report_id in REPORT_IDS:
        report = run(db, hand, report_id)
        assert report.id == report_id
    assert headlines(build_overview(db, hand.project, PERIOD))["calls"] == (6, 2)
