"""Charts drawn on the server: SVG data URIs with no script and nothing fetched, every kind,
and the heatmap as a table of shaded cells."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest

from ringtrail.domain.reports.periods import Period
from ringtrail.services.reports.model import (
    Chart,
    ChartKind,
    Column,
    Report,
    Row,
    Table,
    ValueKind,
)
from ringtrail.web.dashboard.charts import (
    ChartImage,
    Heatmap,
    chart_rows,
    draw_chart,
    draw_charts,
)
from ringtrail.web.dashboard.formatting import Formatter

START = date(2026, 3, 1)
URI_PREFIX = "data:image/svg+xml;base64,"


def daily_report() -> Report:
    days = Table(
        "days",
        "Calls per day",
        [
            Column("day", "Day", ValueKind.DATE),
            Column("calls", "Calls", ValueKind.COUNT),
            Column("previous_calls", "Previous period", ValueKind.COUNT),
            Column("target_share", "Target share", ValueKind.SHARE),
        ],
        [
            Row(
                {
                    "day": START + timedelta(days=n),
                    "calls": n % 7,
                    "previous_calls": n % 5,
                    "target_share": (n % 4) / 4,
                }
            )
            for n in range(30)
        ],
    )
    sources = Table(
        "sources",
        "Calls by source",
        [Column("source", "Source", ValueKind.TEXT), Column("calls", "Calls", ValueKind.COUNT)],
        [Row({"source": "google", "calls": 12}), Row({"source": "", "calls": 3})],
    )
    return Report(
        "overview",
        "Overview",
        Period(START, START + timedelta(days=29)),
        Period(START - timedelta(days=30), START - timedelta(days=1)),
        tables=[days, sources],
        charts=[
            Chart(ChartKind.LINE, "days", "day", ["calls", "previous_calls"], "Calls per day"),
            Chart(ChartKind.BAR, "sources", "source", ["calls"], "Calls by source"),
            Chart(ChartKind.STACKED_BAR, "days", "day", ["calls", "previous_calls"]),
            Chart(ChartKind.PIE, "sources", "source", ["calls"], "Share by source"),
            Chart(ChartKind.LINE, "days", "day", ["target_share"], "Target share"),
        ],
    )


def decode(uri: str) -> str:
    assert uri.startswith(URI_PREFIX)
    return base64.b64decode(uri[len(URI_PREFIX) :]).decode("utf-8")


@pytest.mark.parametrize("index", range(5))
def test_each_chart_is_an_svg_data_uri_with_no_script_and_nothing_external(index: int) -> None:
    report = daily_report()
    image = draw_chart(report, report.charts[index], Formatter("en"))
    assert isinstance(image, ChartImage)
    svg = decode(image.uri)
    root = ElementTree.fromstring(svg)  # noqa: S314 - SVG we drew ourselves
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in svg
    assert "javascript:" not in svg
    # The only URL is the SVG namespace: no stylesheet, font, script or image is fetched.
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')<>]+", svg))
    assert urls <= {
        "http://www.w3.org/2000/svg",
        "//www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
        "//www.w3.org/1999/xlink",
    }
    assert "@import" not in svg
    assert "url(http" not in svg


def test_chart_labels_are_translated_and_empty_values_read_not_set() -> None:
    report = daily_report()
    words = {"Calls": "Звонки", "(not set)": "(не задано)", "Share by source": "Доли"}
    formatter = Formatter("ru", translate=lambda message: words.get(message, message))
    bar = draw_chart(report, report.charts[1], formatter)
    assert isinstance(bar, ChartImage)
    svg = decode(bar.uri)
    assert "Звонки" in svg
    assert "(не задано)" in svg
    pie = draw_chart(report, report.charts[3], formatter)
    assert isinstance(pie, ChartImage) and pie.title == "Доли"


def test_the_previous_period_is_drawn_dashed() -> None:
    report = daily_report()
    line = draw_chart(report, report.charts[0], Formatter("en"))
    assert isinstance(line, ChartImage)
    assert "stroke-dasharray" in decode(line.uri)


def test_a_chart_of_an_empty_table_is_left_out() -> None:
    report = daily_report()
    empty = Report(
        report.id,
        report.title,
        report.period,
        report.previous_period,
        tables=[Table("days", "Calls per day", report.tables[0].columns, [])],
        charts=[report.charts[0]],
    )
    assert draw_charts(empty, Formatter("en")) == []


def test_the_heatmap_is_a_grid_of_shades_with_the_busiest_hour_darkest() -> None:
    hours = [f"{hour:02d}" for hour in range(24)]
    rows = []
    for weekday, name in enumerate(["Monday", "Tuesday"]):
        cells: dict[str, object] = {"weekday": name}
        for hour in hours:
            cells[f"h{hour}"] = 0
        cells["h09"] = 10 if weekday == 0 else 5
        cells["h18"] = 1
        rows.append(Row(cells))
    grid = Table(
        "grid",
        "Calls by weekday and hour",
        [Column("weekday", "Weekday", ValueKind.TEXT, translate=True)]
        + [Column(f"h{hour}", hour, ValueKind.COUNT) for hour in hours],
        rows,
    )
    report = Report(
        "heatmap",
        "Heatmap",
        Period(START, START),
        Period(START, START),
        tables=[grid],
        charts=[Chart(ChartKind.HEATMAP, "grid", "weekday", [f"h{h}" for h in hours])],
    )
    words = {"Monday": "Понедельник"}
    heatmap = draw_chart(
        report, report.charts[0], Formatter("ru", translate=lambda m: words.get(m, m))
    )
    assert isinstance(heatmap, Heatmap)
    assert heatmap.table == "grid"
    assert heatmap.columns == hours
    (monday, monday_cells), (tuesday, tuesday_cells) = heatmap.rows
    assert monday == "Понедельник" and tuesday == "Tuesday"
    assert monday_cells[9].level == 5
    assert tuesday_cells[9].level in (2, 3)
    assert monday_cells[18].level == 1
    assert monday_cells[0].level == 0


def test_a_heatmap_of_weekday_hour_keys_fills_seven_days_of_24_hours() -> None:
    table = Table(
        "cells",
        "Cells",
        [Column("cell", "Cell", ValueKind.TEXT), Column("calls", "Calls", ValueKind.COUNT)],
        [Row({"cell": "0-09", "calls": 4}), Row({"cell": "6-23", "calls": 2})],
    )
    report = Report(
        "heatmap",
        "Heatmap",
        Period(START, START),
        Period(START, START),
        tables=[table],
        charts=[Chart(ChartKind.HEATMAP, "cells", "cell", ["calls"])],
    )
    heatmap = draw_chart(report, report.charts[0], Formatter("uk"))
    assert isinstance(heatmap, Heatmap)
    assert len(heatmap.rows) == 7 and all(len(cells) == 24 for _, cells in heatmap.rows)
    assert heatmap.rows[0][1][9].level == 5
    assert heatmap.rows[6][1][23].text == "2"


def _long_report(days: int, categories: int) -> Report:
    series = Table(
        "days",
        "Calls per day",
        [
            Column("day", "Day", ValueKind.DATE),
            Column("calls", "Calls", ValueKind.COUNT),
            Column("share", "Share", ValueKind.SHARE),
        ],
        [Row({"day": START + timedelta(days=n), "calls": 1, "share": 0.5}) for n in range(days)],
    )
    keywords = Table(
        "keywords",
        "Keywords",
        [Column("keyword", "Keyword", ValueKind.TEXT), Column("calls", "Calls", ValueKind.COUNT)],
        [Row({"keyword": f"kw{n:03d}", "calls": 1000 - n}) for n in range(categories)],
    )
    period = Period(START, START + timedelta(days=days - 1))
    return Report("x", "X", period, period.previous(), tables=[series, keywords])


def charts_of_rows(report: Report, chart: Chart) -> list[dict[str, Any]]:
    return chart_rows(report.table(chart.table), chart)


def test_a_long_daily_series_is_drawn_by_week_with_the_same_total() -> None:
    report = _long_report(days=140, categories=1)
    rows = charts_of_rows(report, Chart(ChartKind.STACKED_BAR, "days", "day", ["calls", "share"]))
    assert len(rows) == 21  # 140 days from a Sunday: 20 whole weeks and the first day's week
    assert sum(row["calls"] for row in rows) == 140
    assert {row["share"] for row in rows} == {0.5}
    assert all(row["day"].weekday() == 0 for row in rows)


def test_a_year_and_more_is_drawn_by_month() -> None:
    report = _long_report(days=500, categories=1)
    rows = charts_of_rows(report, Chart(ChartKind.LINE, "days", "day", ["calls"]))
    assert all(row["day"].day == 1 for row in rows)
    assert sum(row["calls"] for row in rows) == 500


def test_a_bar_chart_of_categories_shows_the_first_rows_only() -> None:
    report = _long_report(days=1, categories=200)
    chart = Chart(ChartKind.BAR, "keywords", "keyword", ["calls"])
    rows = charts_of_rows(report, chart)
    assert [row["keyword"] for row in rows] == [f"kw{n:03d}" for n in range(20)]
    drawn = draw_chart(report, chart, Formatter("en"))
    assert isinstance(drawn, ChartImage)
