"""Report charts drawn on the server: pygal SVG as `data:` URIs, the heatmap as a shaded table.

Each chart also says in words what it shows (`describe_chart`: for each series its highest and
lowest points and, for counts, money and time, the period's total), for people who cannot see
the image; the page puts that beside the chart with a link to the table of the same figures.

The page's Content-Security-Policy forbids inline scripts and styles but allows `img-src
data:`, so each chart is an SVG document inside an `<img>`: its own styles apply only inside
the image, and an image never runs scripts or fetches anything. pygal still writes a config
`<script>` and credit comments; an XML filter removes both before the SVG is serialised.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pygal
from babel.dates import get_day_names
from pygal.style import Style

from ringtrail.services.reports.model import (
    N_,
    Chart,
    ChartKind,
    Column,
    Report,
    Table,
    ValueKind,
)
from ringtrail.web.dashboard.design_tokens import HEAT_LEVELS, SCHEMES, load_tokens
from ringtrail.web.dashboard.formatting import Formatter

SUMMED_KINDS = frozenset({ValueKind.COUNT, ValueKind.MONEY, ValueKind.SECONDS})
"""Series whose period total means something (a share or a ratio does not add up)."""
WITH_TOTAL = N_(
    "%(series)s: highest %(high)s (%(high_at)s), lowest %(low)s (%(low_at)s), total %(total)s."
)
WITHOUT_TOTAL = N_("%(series)s: highest %(high)s (%(high_at)s), lowest %(low)s (%(low_at)s).")
WIDTH, HEIGHT = 800, 340
MAX_CATEGORIES = 20
"""Bar and pie charts of categories (keywords, campaigns...) draw the table's first rows only:
tables come sorted by their main figure, and the table below the chart lists them all."""
MAX_POINTS = 62
"""A daily series longer than this is drawn by week (and by month past a year), so a chart of
a long period stays legible and cheap to draw; the table keeps every day."""
PREVIOUS_PREFIX = "previous"
"""Series whose column key starts with this are the comparison period, drawn dashed."""

# Text and axes in the page's muted colour (tokens.css) on a transparent background: the light
# scheme's here, the dark scheme's from CHART_CSS, since an SVG shown as an image follows the
# page's prefers-color-scheme. Both reach 4.5:1 on the page and on a card.
_MUTED = {scheme: load_tokens()[scheme]["muted"].hex for scheme in SCHEMES}
CHART_CSS = (
    "inline:@media (prefers-color-scheme: dark) {"
    " .graph, .title, text.no_data, .legends .legend text, .axis text, .axis text.major,"
    f" .axis .guides:hover text, .series text {{ fill: {_MUTED['dark']}; }}"
    f" .axis .line, .axis .major.line {{ stroke: {_MUTED['dark']}; }} }}"
)
CHART_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground=_MUTED["light"],
    foreground_strong=_MUTED["light"],
    foreground_subtle="rgba(123, 132, 148, 0.25)",
    opacity=".85",
    opacity_hover="1",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=12,
    tooltip_font_size=12,
    colors=(
        "#3b82f6", "#f97316", "#10b981", "#a855f7", "#ef4444",
        "#14b8a6", "#eab308", "#ec4899", "#64748b", "#84cc16",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class ChartImage:
    """A drawn chart: its title, the `data:image/svg+xml;base64,...` URI of the SVG, what it
    shows in words and the key of the table that holds its figures."""

    title: str
    uri: str
    kind: str = "image"
    description: str = ""
    table: str = ""


@dataclass(frozen=True)
class HeatCell:
    """One cell of the heatmap: the value, its formatted text and its shade (0 to 5)."""

    value: float
    text: str
    level: int


@dataclass(frozen=True)
class Heatmap:
    """A weekday x hour grid (or any rows x columns), each cell shaded by its value."""

    title: str
    columns: list[str]
    rows: list[tuple[str, list[HeatCell]]]
    table: str = ""
    """The key of the report table it is drawn from (for its download links)."""
    kind: str = "heatmap"
    description: str = ""


def _strip_scripts_and_comments(root: Any) -> Any:
    """An XML filter: pygal's config script and credit comments out of the SVG."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def svg_data_uri(svg: str | bytes) -> str:
    """An SVG document as a `data:` URI an `<img>` can show."""
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def _numeric(value: Any, kind: ValueKind) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    # Shares and ratios are drawn as percentages, the way the tables show them.
    return number * 100 if kind in (ValueKind.SHARE, ValueKind.RATIO) else number


def _columns(table: Table) -> dict[str, Column]:
    return {column.key: column for column in table.columns}


def _new_chart(kind: ChartKind, formatter: Formatter, labels: int) -> Any:
    config: dict[str, Any] = {
        "style": CHART_STYLE,
        "css": ["file://style.css", "file://graph.css", CHART_CSS],
        "js": [],
        "disable_xml_declaration": True,
        "no_prefix": True,
        "width": WIDTH,
        "height": HEIGHT,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "truncate_legend": 40,
        "value_formatter": formatter.number,
        "print_zeroes": False,
    }
    if kind is ChartKind.PIE:
        return pygal.Pie(inner_radius=0.45, **config)
    if labels > 12:
        config.update(x_label_rotation=35, show_minor_x_labels=False)
        config["x_labels_major_every"] = max(1, labels // 10)
    if kind is ChartKind.LINE:
        return pygal.Line(show_dots=labels <= 31, dots_size=2.5, fill=False, **config)
    if kind is ChartKind.STACKED_BAR:
        return pygal.StackedBar(**config)
    return pygal.Bar(**config)


def _bucket_start(day: date, days: int) -> date:
    if days > 400:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def _summed_by_period(table: Table, x_key: str, series: list[str]) -> list[dict[str, Any]]:
    """The rows of a long daily table summed by week or month (shares and ratios averaged)."""
    columns = _columns(table)
    days = len(table.rows)
    buckets: dict[date, list[dict[str, Any]]] = {}
    for row in table.rows:
        day = row.cells.get(x_key)
        if isinstance(day, date):
            buckets.setdefault(_bucket_start(day, days), []).append(row.cells)
    summed = []
    for start, cells in sorted(buckets.items()):
        merged: dict[str, Any] = {x_key: start}
        for key in series:
            values: list[float] = [
                float(value)
                for value in (c.get(key) for c in cells)
                if isinstance(value, int | float | Decimal) and not isinstance(value, bool)
            ]
            if not values:
                merged[key] = None
            elif columns[key].kind in (ValueKind.SHARE, ValueKind.RATIO):
                merged[key] = sum(values) / len(values)
            else:
                merged[key] = sum(values)
        summed.append(merged)
    return summed


def chart_rows(table: Table, chart: Chart) -> list[dict[str, Any]]:
    """The cells the chart draws: a long daily series by period, categories capped."""
    rows = [row.cells for row in table.rows]
    x_kind = _columns(table)[chart.x].kind
    if x_kind is ValueKind.DATE and len(rows) > MAX_POINTS:
        return _summed_by_period(table, chart.x, chart.series)
    if chart.kind in (ChartKind.BAR, ChartKind.PIE) and x_kind is not ValueKind.DATE:
        return rows[:MAX_CATEGORIES]
    return rows


def draw_svg(report: Report, chart: Chart, formatter: Formatter) -> str:
    """The SVG of a line, bar, stacked bar or pie chart of `report` (the page shows its title)."""
    table = report.table(chart.table)
    columns = _columns(table)
    x_column = columns[chart.x]
    rows = chart_rows(table, chart)
    labels = [formatter.column_cell(cells.get(chart.x), x_column) for cells in rows]
    graph = _new_chart(chart.kind, formatter, len(labels))
    graph.add_xml_filter(_strip_scripts_and_comments)
    if chart.kind is ChartKind.PIE:
        key = chart.series[0]
        for label, cells in zip(labels, rows, strict=True):
            value = _numeric(cells.get(key), columns[key].kind)
            if value:
                graph.add(label, value)
    else:
        graph.x_labels = labels
        for key in chart.series:
            column = columns[key]
            values = [_numeric(cells.get(key), column.kind) for cells in rows]
            options: dict[str, Any] = {}
            if key.startswith(PREVIOUS_PREFIX) and chart.kind is ChartKind.LINE:
                options["stroke_style"] = {"width": 2, "dasharray": "6, 4"}
            graph.add(formatter.label(column.label), values, **options)
    svg: str = graph.render(is_unicode=True)
    return svg


def _level(value: float, peak: float) -> int:
    if value <= 0 or peak <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, round(value / peak * (HEAT_LEVELS - 1))))


def draw_heatmap(report: Report, chart: Chart, formatter: Formatter) -> Heatmap:
    """The heatmap of `report` as rows of shaded cells.

    A table with one column per hour (the chart's series) gives one heatmap row per table row;
    a table with one row per cell, keyed "<weekday>-<hour>" (Monday = 0), is laid out as seven
    weekdays by 24 hours.
    """
    table = report.table(chart.table)
    columns = _columns(table)
    title = formatter.label(chart.title or table.title)
    grid: list[tuple[str, list[tuple[float, str]]]] = []
    if len(chart.series) > 1:
        header = [formatter.label(columns[key].label) for key in chart.series]
        x_column = columns[chart.x]
        for row in table.rows:
            cells = []
            for key in chart.series:
                raw = row.cells.get(key)
                cells.append(
                    (
                        _numeric(raw, columns[key].kind) or 0.0,
                        formatter.cell(raw, columns[key].kind),
                    )
                )
            grid.append((formatter.column_cell(row.cells.get(chart.x), x_column), cells))
    else:
        key = chart.series[0]
        kind = columns[key].kind
        values: dict[tuple[int, int], Any] = {}
        for row in table.rows:
            day, _, hour_text = str(row.cells.get(chart.x, "")).partition("-")
            if day.isdigit() and hour_text.isdigit():
                values[int(day), int(hour_text)] = row.cells.get(key)
        header = [f"{hour:02d}" for hour in range(24)]
        names = get_day_names("abbreviated", locale=formatter.locale)
        for weekday in range(7):
            cells = []
            for hour in range(24):
                raw = values.get((weekday, hour), 0)
                cells.append((_numeric(raw, kind) or 0.0, formatter.cell(raw, kind)))
            grid.append((names[weekday], cells))
    peak = max((value for _, cells in grid for value, _ in cells), default=0.0)
    rows = [
        (label, [HeatCell(value, text, _level(value, peak)) for value, text in cells])
        for label, cells in grid
    ]
    kinds = {columns[key].kind for key in chart.series}
    summed = kinds.pop() if len(kinds) == 1 and kinds <= SUMMED_KINDS else None
    description = _describe_grid(formatter, title, header, rows, summed)
    return Heatmap(title, header, rows, table.key, description=description)


def _describe_grid(
    formatter: Formatter,
    title: str,
    header: list[str],
    rows: list[tuple[str, list[HeatCell]]],
    summed: ValueKind | None,
) -> str:
    """The heatmap in words: its busiest and quietest cell and, when its cells add up (`summed`
    is their kind), the sum of every cell."""
    cells = [
        (f"{label} {header[index]}", cell) for label, row in rows for index, cell in enumerate(row)
    ]
    if not cells or all(cell.value == 0 for _, cell in cells):
        return ""
    high_at, high = max(cells, key=lambda item: item[1].value)
    low_at, low = min(cells, key=lambda item: item[1].value)
    values = {"series": title, "high": high.text, "high_at": high_at}
    values |= {"low": low.text, "low_at": low_at}
    if summed is None:
        return formatter.translate(WITHOUT_TOTAL) % values
    total = sum(cell.value for _, cell in cells)
    values["total"] = formatter.cell(total, summed)
    return formatter.translate(WITH_TOTAL) % values


def describe_chart(report: Report, chart: Chart, formatter: Formatter) -> str:
    """What a line, bar or pie chart shows, in the page's language: for each series drawn, its
    highest and lowest points with where they fall and, for counts, money and time, the total
    over the report's period. Read from the chart's whole table (the figures the table on the
    page lists), not only the points the image has room for."""
    table = report.table(chart.table)
    columns = _columns(table)
    x_column = columns[chart.x]
    series = chart.series[:1] if chart.kind is ChartKind.PIE else chart.series
    sentences = []
    for key in series:
        column = columns[key]
        points = [
            (cells.get(chart.x), cells.get(key), number)
            for cells in (row.cells for row in table.rows)
            if (number := _numeric(cells.get(key), column.kind)) is not None
        ]
        if not points:
            continue
        high = max(points, key=lambda point: point[2])
        low = min(points, key=lambda point: point[2])
        values = {
            "series": formatter.label(column.label),
            "high": formatter.column_cell(high[1], column),
            "high_at": formatter.column_cell(high[0], x_column),
            "low": formatter.column_cell(low[1], column),
            "low_at": formatter.column_cell(low[0], x_column),
        }
        if column.kind in SUMMED_KINDS:
            # The raw values, so Decimal money adds up exactly.
            raw: list[Any] = [point[1] for point in points]
            total = sum(raw)
            values["total"] = formatter.column_cell(total, column)
            sentences.append(formatter.translate(WITH_TOTAL) % values)
        else:
            sentences.append(formatter.translate(WITHOUT_TOTAL) % values)
    return " ".join(sentences)


def draw_chart(report: Report, chart: Chart, formatter: Formatter) -> ChartImage | Heatmap | None:
    """One chart of `report`, ready for the page; None when its table has no rows."""
    table = report.table(chart.table)
    if chart.kind is ChartKind.HEATMAP:
        return draw_heatmap(report, chart, formatter)
    if not table.rows:
        return None
    svg = draw_svg(report, chart, formatter)
    title = formatter.label(chart.title or table.title)
    description = describe_chart(report, chart, formatter)
    return ChartImage(title, svg_data_uri(svg), description=description, table=table.key)


def draw_charts(report: Report, formatter: Formatter) -> list[ChartImage | Heatmap]:
    """Every chart of `report` that has something to draw, in the report's order."""
    drawn = (draw_chart(report, chart, formatter) for chart in report.charts)
    return [item for item in drawn if item is not None]
