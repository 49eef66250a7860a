"""Tabular exports: any list of rows as CSV or XLSX bytes, the same rows the page shows.

Callers pass column labels (already in the reader's language) and rows of plain values:
str, int, float, Decimal, date, datetime (aware datetimes are written in `zone`), bool or
None. CSV is UTF-8 with a byte-order mark so spreadsheet programs read Cyrillic correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_SHEET_TITLE = 31


def _plain(value: Any, zone: ZoneInfo | None) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone) if zone else value
            return value.replace(tzinfo=None)
        return value
    return value


def _csv_cell(value: Any, zone: ZoneInfo | None) -> str:
    value = _plain(value, zone)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | Decimal | int | float):
        return str(value)
    text = str(value)
    # A cell starting like a formula is quoted so a spreadsheet does not run it (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(
    labels: Sequence[str], rows: Iterable[Sequence[Any]], zone: ZoneInfo | None = None
) -> bytes:
    """The rows as CSV (comma-separated, a header row of `labels`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(labels)
    for row in rows:
        writer.writerow([_csv_cell(value, zone) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    labels: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: ZoneInfo | None = None,
    sheet_title: str = "Report",
) -> bytes:
    """The rows as an XLSX workbook with one sheet: a header row, then the values as typed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:MAX_SHEET_TITLE] or "Report")
    sheet.append(list(labels))
    for row in rows:
        cells = []
        for value in row:
            plain = _plain(value, zone)
            # XLSX cells are typed: only text starting with "=" would become a formula.
            if isinstance(plain, str) and plain.startswith("="):
                plain = "'" + plain
            cells.append(plain)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
