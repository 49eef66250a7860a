"""Target calls by who judged them (people, rules, the model) in the reports: the quality
report, the per-source tables and the money tables count each judge and the total, read from
rollups and from raw calls alike, and match a count straight from the calls table; cost per
target call divides by the total. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.services.call_judgement import judge_call
from ringtrail.services.reports.catalog import build_report
from ringtrail.services.reports.engine import ReportScope, call_rows
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage.models import AdCost, Call, Project
from tests.call_rows import add_call
from tests.conftest import World

START = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
PERIOD = Period(date(2025, 1, 10), date(2025, 1, 11))
NOW = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)
JUDGES = ("user", "rule", "model")

# (source, campaign, [(judge, is_target), ...] applied in order)
CALLS = [
    ("google", "spring", [("user", True)]),
    ("google", "spring", [("rule", True)]),
    ("google", "spring", [("model", True)]),
    ("google", "autumn", [("model", True), ("rule", True)]),  # the rule's mark wins
    ("google", "autumn", [("model", True), ("user", False)]),  # the person's mark wins
    ("google", "autumn", [("user", True), ("rule", False), ("model", False)]),  # still theirs
    ("yelp", "", [("rule", True)]),
    ("yelp", "", [("rule", False)]),
    ("yelp", "", []),
    ("", "", [("model", True)]),
]


def build(db: Session, project: Project) -> None:
    for index, (source, campaign, marks) in enumerate(CALLS):
        call = add_call(
            db,
            project,
            started_at=START + timedelta(hours=index * 3),
            source=source or None,
            campaign=campaign or None,
        )
        for by, value in marks:
            judge_call(db, call, value, by=by, detail=f"{by} test")  # type: ignore[arg-type]
    db.add(
        AdCost(
            project_id=project.id, day=date(2025, 1, 10), source="google", campaign="spring",
            medium="cpc", cost=Decimal("60"), currency="UAH",
        )
    )  # fmt: skip
    db.commit()


def raw_counts(db: Session, project: Project) -> dict[tuple[str, str], int]:
    """Target calls by (source, judge), straight from the calls table."""
    rows = db.execute(
        select(Call.source, Call.target_set_by, func.count())
        .where(Call.project_id == project.id, Call.is_target.is_(True))
        .group_by(Call.source, Call.target_set_by)
    )
    return {(source or "", judge): count for source, judge, count in rows}


def test_the_quality_report_counts_each_judge_and_the_total(db: Session, world: World) -> None:
    project = world.ours.project
    build(db, project)
    raw = raw_counts(db, project)
    assert raw == {
        ("google", "user"): 2,
        ("google", "rule"): 2,
        ("google", "model"): 1,
        ("yelp", "rule"): 1,
        ("", "model"): 1,
    }
    for rolled_up in (False, True):
        if rolled_up:
            rebuild_project(db, project.id, now=NOW)
        report = build_report(db, project, "quality", PERIOD)
        by_source = {row.cells["source"]: row.cells for row in report.tables[0].rows}
        for source, cells in by_source.items():
            for judge in JUDGES:
                assert cells[f"target_by_{judge}"] == raw.get((source, judge), 0)
            assert cells["target"] == sum(cells[f"target_by_{judge}"] for judge in JUDGES)
        totals = report.tables[0].totals
        assert (totals["target_by_user"], totals["target_by_rule"], totals["target_by_model"]) == (
            2,
            3,
            2,
        )
        assert totals["target"] == 7
        headline = {item.key: item.value for item in report.headlines}
        assert headline["target_by_rule"] == 3


def test_rollups_and_raw_calls_agree_on_the_judge_counts(db: Session, world: World) -> None:
    project = world.ours.project
    build(db, project)
    rebuild_project(db, project.id, now=NOW)
    scope = ReportScope.of(project, PERIOD)
    for dimension in Dimension:
        assert call_rows(db, scope, dimension) == call_rows(db, scope, dimension, raw=True)


def test_per_source_and_money_tables_split_target_calls_and_cost_uses_the_total(
    db: Session, world: World
) -> None:
    project = world.ours.project
    build(db, project)
    sources = build_report(db, project, "sources", PERIOD)
    google = next(row.cells for row in sources.tables[0].rows if row.cells["value"] == "google")
    assert (google["target_by_user"], google["target_by_rule"], google["target_by_model"]) == (
        2,
        2,
        1,
    )
    campaigns = build_report(db, project, "campaigns", PERIOD)
    spring = next(
        row.cells for row in campaigns.tables[0].rows if row.cells["campaign"] == "spring"
    )
    # One target call each by a person, a rule and the model: 60 / 3.
    assert (spring["target"], spring["cost_per_target"]) == (3, Decimal("20.00"))
    profit = build_report(db, project, "profit", PERIOD)
    assert "target_by_model" in {column.key for column in profit.tables[0].columns}
