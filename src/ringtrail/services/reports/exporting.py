"""A report table as CSV or XLSX, and a report as plain data (the API's JSON).

The dashboard's download buttons and the API's `format=csv|xlsx` both call
`report_table_export`, so a file always holds the rows the page and the JSON show: the
table's rows in order, then its totals row. Labels go through the reader's translator;
cell values are written as computed (shares as fractions, money as decimals), and XLSX
shows them with a percent or currency number format. A recording column holds a signed
link a browser opens (`recording_links`), not the API path, which needs an API key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from ringtrail.services.errors import InvalidInput
from ringtrail.services.exports import (
    CSV_MEDIA_TYPE,
    PERCENT_FORMAT,
    XLSX_MEDIA_TYPE,
    CsvStyle,
    money_format,
    to_csv,
    to_xlsx,
)
from ringtrail.services.reports.model import N_, Column, Report, Row, Table, ValueKind

Translator = Callable[[str], str]
RecordingLinks = Callable[[Iterable[int]], dict[int, str]]
NOT_SET_LABEL = N_("(not set)")


class ExportFormat(StrEnum):
    """The file formats a report table downloads as."""

    CSV = "csv"
    XLSX = "xlsx"


def export_table(report: Report, table_key: str | None) -> Table:
    """The table named `table_key`, or the report's first (main) table; InvalidInput if none."""
    if not report.tables:
        raise InvalidInput("table", "this report has no table to export")
    if table_key is None:
        return report.tables[0]
    try:
        return report.table(table_key)
    except KeyError:
        names = ", ".join(table.key for table in report.tables)
        raise InvalidInput("table", f"no table {table_key!r}; use one of: {names}") from None


def export_filename(report: Report, table: Table, fmt: ExportFormat, project: str = "") -> str:
    """`ringtrail-[<project>-]<report>[-<table>]-<from>-<to>.<ext>`; the main table goes
    unnamed; `project` (its slug) is kept to ASCII letters, digits and dashes."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", project).strip("-")[:40]
    parts = ["ringtrail", *([slug] if slug else []), report.id]
    if report.tables and table.key != report.tables[0].key:
        parts.append(table.key)
    parts += [report.period.start.isoformat(), report.period.end.isoformat()]
    return "-".join(parts) + f".{fmt.value}"


def _cell(column: Column, value: Any, translate: Translator) -> Any:
    if column.kind is ValueKind.TEXT:
        if value is None or value == "":
            return translate(NOT_SET_LABEL)
        return translate(value) if column.translate and isinstance(value, str) else value
    return value


def column_format(column: Column, currency: str) -> str | None:
    """The XLSX number format of a column's cells: percent, the currency, or none."""
    if column.kind in (ValueKind.SHARE, ValueKind.RATIO):
        return PERCENT_FORMAT
    if column.kind is ValueKind.MONEY:
        return money_format(currency)
    return None


def _linked(table: Table, links: RecordingLinks | None) -> dict[int, str]:
    """Signed recording links of the calls a LINK column of `table` points at."""
    if links is None or not any(c.kind is ValueKind.LINK for c in table.columns):
        return {}
    ids = [row.cells.get("call_id") for row in table.rows]
    return links([call_id for call_id in ids if isinstance(call_id, int)])


def table_rows(
    table: Table, translate: Translator, links: RecordingLinks | None = None
) -> list[list[Any]]:
    """The table's rows, then its totals row, as lists of cell values in column order.

    With `links`, a LINK cell of a call holds the link to its recording (or stays empty)."""
    linked = _linked(table, links)
    rows = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            value = row.cells.get(column.key)
            if column.kind is ValueKind.LINK and links is not None:
                call_id = row.cells.get("call_id")
                value = linked.get(call_id) if value and isinstance(call_id, int) else None
            cells.append(_cell(column, value, translate))
        rows.append(cells)
    if table.totals is not None:
        totals: list[Any] = []
        for index, column in enumerate(table.columns):
            value = table.totals.get(column.key)
            if index == 0 and isinstance(value, str):
                totals.append(translate(value))
            else:
                totals.append(_cell(column, value, translate) if value not in (None, "") else None)
        rows.append(totals)
    return rows


def report_table_export(
    report: Report,
    table_key: str | None,
    labels_translator: Translator,
    fmt: str | ExportFormat,
    *,
    zone: ZoneInfo | None = None,
    currency: str = "",
    csv_style: CsvStyle | None = None,
    recording_links: RecordingLinks | None = None,
    project: str = "",
) -> tuple[bytes, str, str]:
    """One table of `report` (the first when `table_key` is None) as (bytes, media type,
    file name). `fmt` is "csv" (in `csv_style`) or "xlsx" (money in `currency`); instants
    are written in `zone` (the project's)."""
    try:
        chosen = ExportFormat(fmt)
    except ValueError as exc:
        raise InvalidInput("format", "use csv or xlsx") from exc
    table = export_table(report, table_key)
    labels = [labels_translator(column.label) for column in table.columns]
    rows = table_rows(table, labels_translator, recording_links)
    filename = export_filename(report, table, chosen, project)
    if chosen is ExportFormat.CSV:
        return to_csv(labels, rows, zone, csv_style), CSV_MEDIA_TYPE, filename
    sheet = labels_translator(table.title) or report.id
    formats = [column_format(column, currency) for column in table.columns]
    content = to_xlsx(labels, rows, zone, sheet_title=sheet, formats=formats)
    return content, XLSX_MEDIA_TYPE, filename


def _plain(value: Any) -> Any:
    """A cell value as JSON carries it: money as a decimal string, dates as ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row_data(row: Row) -> dict[str, Any]:
    return {
        "cells": {key: _plain(value) for key, value in row.cells.items()},
        "drill": row.drill,
        "drill_query": row.drill_query,
    }


def report_data(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data: period, comparison, headlines, tables, charts, notes."""
    return {
        "id": report.id,
        "title": report.title,
        "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat()},
        "previous_period": {
            "from": report.previous_period.start.isoformat(),
            "to": report.previous_period.end.isoformat(),
        },
        "headlines": [
            {
                "key": item.key,
                "label": item.label,
                "kind": item.kind.value,
                "value": _plain(item.value),
                "previous": _plain(item.previous),
                "change": item.change,
            }
            for item in report.headlines
        ],
        "tables": [
            {
                "key": table.key,
                "title": table.title,
                "columns": [
                    {
                        "key": column.key,
                        "label": column.label,
                        "kind": column.kind.value,
                        "translate": column.translate,
                    }
                    for column in table.columns
                ],
                "rows": [_row_data(row) for row in table.rows],
                "totals": (
                    None
                    if table.totals is None
                    else {key: _plain(value) for key, value in table.totals.items()}
                ),
            }
            for table in report.tables
        ],
        "charts": [
            {
                "kind": chart.kind.value,
                "table": chart.table,
                "x": chart.x,
                "series": list(chart.series),
                "title": chart.title,
            }
            for chart in report.charts
        ],
        "notes": list(report.notes),
    }
