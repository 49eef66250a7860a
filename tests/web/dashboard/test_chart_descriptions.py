"""Charts in words: each chart says what it shows (highest, lowest, the period's total), in the
page's language, from the figures of the table it is drawn from."""

# ruff: noqa: RUF001 - the expected strings are Russian on purpose

from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from decimal import Decimal

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
    WITH_TOTAL,
    ChartImage,
    Heatmap,
    describe_chart,
    draw_chart,
)
from ringtrail.web.dashboard.design_tokens import load_tokens
from ringtrail.web.dashboard.formatting import Formatter

START = date(2026, 3, 1)
CALLS = [4, 9, 2, 7, 12, 0, 5]


def report() -> Report:
    days = Table(
        "days",
        "Calls per day",
        [
            Column("day", "Day", ValueKind.DATE),
            Column("calls", "Calls", ValueKind.COUNT),
            Column("target_share", "Target share", ValueKind.SHARE),
            Column("revenue", "Revenue", ValueKind.MONEY),
        ],
        [
            Row(
                {
                    "day": START + timedelta(days=n),
                    "calls": calls,
                    "target_share": None if calls == 0 else 0.25 + n / 100,
                    "revenue": Decimal("10.50") * calls,
                }
            )
            for n, calls in enumerate(CALLS)
        ],
    )
    sources = Table(
        "sources",
        "Calls by source",
        [Column("source", "Source", ValueKind.TEXT), Column("calls", "Calls", ValueKind.COUNT)],
        [Row({"source": "google", "calls": 30}), Row({"source": "", "calls": 3})]
        + [Row({"source": f"s{n}", "calls": 5}) for n in range(25)],
    )
    return Report(
        "overview",
        "Overview",
        Period(START, START + timedelta(days=6)),
        Period(START - timedelta(days=7), START - timedelta(days=1)),
        tables=[days, sources],
        charts=[
            Chart(ChartKind.LINE, "days", "day", ["calls", "target_share"], "Calls per day"),
            Chart(ChartKind.PIE, "sources", "source", ["calls"], "Share by source"),
            Chart(ChartKind.BAR, "days", "day", ["revenue"], "Revenue"),
        ],
    )


def test_a_line_chart_names_its_highest_lowest_and_total_per_series() -> None:
    text = describe_chart(report(), report().charts[0], Formatter("en"))
    assert text == (
        "Calls: highest 12 (Mar 5, 2026), lowest 0 (Mar 6, 2026), total 39. "
        "Target share: highest 31% (Mar 7, 2026), lowest 25% (Mar 1, 2026)."
    )
    assert sum(CALLS) == 39


def test_money_is_totalled_exactly_in_the_currency() -> None:
    text = describe_chart(report(), report().charts[2], Formatter("en", currency="UAH"))
    assert text == (
        "Revenue: highest UAH126.00 (Mar 5, 2026), lowest UAH0.00 (Mar 6, 2026), total UAH409.50."
    )


def test_a_pie_describes_every_row_of_its_table_not_only_the_slices_drawn() -> None:
    text = describe_chart(report(), report().charts[1], Formatter("en"))
    # 27 sources; the pie draws 20, the words cover the table the page links to.
    assert text == "Calls: highest 30 (google), lowest 3 ((not set)), total 158."


def test_the_words_are_in_the_page_language() -> None:
    words = {
        WITH_TOTAL: "%(series)s: максимум %(high)s (%(high_at)s), минимум %(low)s "
        "(%(low_at)s), всего %(total)s.",
        "Calls": "Звонки",
    }
    formatter = Formatter("ru", translate=lambda message: words.get(message, message))
    chart = Chart(ChartKind.BAR, "days", "day", ["calls"], "Calls per day")
    text = describe_chart(report(), chart, formatter).replace("\N{NARROW NO-BREAK SPACE}", " ")
    assert text == "Звонки: максимум 12 (5 мар. 2026 г.), минимум 0 (6 мар. 2026 г.), всего 39."


def test_a_drawn_chart_carries_its_words_and_its_table() -> None:
    drawn = draw_chart(report(), report().charts[0], Formatter("en"))
    assert isinstance(drawn, ChartImage)
    assert drawn.table == "days"
    assert drawn.description.startswith("Calls: highest 12 (Mar 5, 2026)")


def test_the_heatmap_names_its_busiest_and_quietest_hour_and_the_total() -> None:
    cells = {"0-9": 7, "0-10": 3, "2-14": 11}
    table = Table(
        "grid",
        "Calls by weekday and hour",
        [Column("cell", "Cell", ValueKind.TEXT), Column("calls", "Calls", ValueKind.COUNT)],
        [Row({"cell": key, "calls": calls}) for key, calls in cells.items()],
    )
    heat = Report(
        "heatmap",
        "Heatmap",
        Period(START, START),
        Period(START, START),
        tables=[table],
        charts=[Chart(ChartKind.HEATMAP, "grid", "cell", ["calls"], "Calls by hour")],
    )
    drawn = draw_chart(heat, heat.charts[0], Formatter("en"))
    assert isinstance(drawn, Heatmap)
    assert drawn.description == ("Calls by hour: highest 11 (Wed 14), lowest 0 (Mon 00), total 21.")


def test_chart_text_takes_the_muted_colour_of_each_scheme_from_the_tokens() -> None:
    """An SVG image follows the page's colour scheme: its labels are the page's muted text,
    which reaches 4.5:1 on the page and on a card in both schemes (test_design_tokens.py)."""
    drawn = draw_chart(report(), report().charts[0], Formatter("en"))
    assert isinstance(drawn, ChartImage)
    svg = base64.b64decode(drawn.uri.split(",", 1)[1]).decode("utf-8")
    light, dark = (load_tokens()[scheme]["muted"].hex for scheme in ("light", "dark"))
    assert re.search(rf"\.graph\{{fill:{light}", svg)
    assert "#7b8494" not in svg  # the old mid grey: 3.5:1 on the light page
    scheme = svg[svg.index("@media (prefers-color-scheme:dark)") :]
    assert re.search(rf"\.axis text[^}}]*\{{fill:{dark}", scheme)
