"""The demo makes every report worth looking at: no report, table or headline comes out empty."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ringtrail.demo import catalog
from ringtrail.domain.reports.periods import Period
from ringtrail.services.reports.catalog import REPORT_IDS, build_overview, build_report
from ringtrail.services.reports.model import Report, ValueKind
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage.models import Project
from tests.demo.conftest import GeneratedDemo

NUMERIC = {ValueKind.COUNT, ValueKind.SHARE, ValueKind.SECONDS, ValueKind.MONEY, ValueKind.RATIO}


def _last_30_days(demo: GeneratedDemo) -> Period:
    today = demo.now.astimezone(ZoneInfo(catalog.TIMEZONE)).date()
    return Period(today - timedelta(days=29), today)


def _has_a_figure(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and value != 0


def _assert_filled(report: Report) -> None:
    assert report.tables, f"{report.id} has no table"
    for table in report.tables:
        assert table.rows, f"{report.id}.{table.key} has no rows"
        numeric = [c.key for c in table.columns if c.kind in NUMERIC]
        if numeric:
            assert any(
                _has_a_figure(row.cells.get(key)) for row in table.rows for key in numeric
            ), f"{report.id}.{table.key} is all zeros"
    for headline in report.headlines:
        if headline.kind in NUMERIC and headline.kind is not ValueKind.RATIO:
            assert headline.value is not None, f"{report.id}: {headline.key} is empty"


@pytest.fixture(scope="module")
def rolled_up(generated: GeneratedDemo) -> GeneratedDemo:
    """The demo with its rollups built, as `ringtrail demo` leaves it."""
    with generated.session() as db:
        rebuild_project(db, generated.summary.project_id, now=generated.now)
    return generated


@pytest.mark.parametrize("report_id", REPORT_IDS)
def test_every_report_has_figures_on_the_demo(rolled_up: GeneratedDemo, report_id: str) -> None:
    with rolled_up.session() as db:
        project = db.get(Project, rolled_up.summary.project_id)
        assert project is not None
        report = build_report(db, project, report_id, _last_30_days(rolled_up), now=rolled_up.now)
    _assert_filled(report)


def test_the_overview_has_figures_and_a_previous_period_on_the_demo(
    rolled_up: GeneratedDemo,
) -> None:
    with rolled_up.session() as db:
        project = db.get(Project, rolled_up.summary.project_id)
        assert project is not None
        report = build_overview(db, project, _last_30_days(rolled_up))
    _assert_filled(report)
    calls = next(h for h in report.headlines if h.key == "calls")
    assert _has_a_figure(calls.value) and _has_a_figure(calls.previous)
