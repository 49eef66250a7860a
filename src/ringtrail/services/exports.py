"""Tabular exports: any list of rows as CSV or XLSX bytes, the same rows the page shows.

Callers pass column labels (already in the reader's language) and rows of plain values:
str, int, float, Decimal, date, datetime (aware datetimes are written in `zone`), bool or
None. CSV is UTF-8 with a byte-order mark so spreadsheet programs read Cyrillic correctly,
and follows the reader's locale (`csv_style`): Excel set to Russian or Ukrainian splits
fields on `;` and reads `1,5` as a number, so those locales get both.

Formula injection (OWASP "CSV Injection", CWE-1236): a text cell starting with `=`, `+`, `-`,
`@`, a tab or a line break would run as a formula when opened. In XLSX every text cell is
written as a string cell, which a spreadsheet never evaluates, so it keeps its text as is.
In CSV such a cell gets the apostrophe OWASP recommends, except a phone number: `+` and
digits only (or a masked one, `+38050•••••67`) holds no function, reference or DDE call
and runs nothing, so it is written as is rather than with a visible `'`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font

from ringtrail.domain.privacy import MASK

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PHONE = re.compile(rf"\+[0-9{MASK}]{{3,20}}")
MAX_SHEET_TITLE = 31
PERCENT_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def money_format(currency: str) -> str:
    """An XLSX number format for amounts in `currency`: `#,##0.00 "UAH"` (grouping and the
    decimal sign follow the reader's Excel locale; the code is plain text, never a symbol
    another currency shares)."""
    code = "".join(ch for ch in currency.upper() if ch.isalpha())[:3]
    return f'#,##0.00 "{code}"' if code else "#,##0.00"


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV export separates fields and writes decimals, for one reading locale."""

    delimiter: str = ","
    decimal: str = "."


CSV_STYLES: dict[str, CsvStyle] = {
    "en": CsvStyle(),
    "ru": CsvStyle(delimiter=";", decimal=","),
    "uk": CsvStyle(delimiter=";", decimal=","),
}


def csv_style(locale: str | None) -> CsvStyle:
    """The CSV style of `locale` (`ru-RU` is `ru`); comma and point for any other."""
    primary = (locale or "").replace("_", "-").split("-")[0].lower()
    return CSV_STYLES.get(primary, CsvStyle())


def _plain(value: Any, zone: ZoneInfo | None) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone) if zone else value
            return value.replace(tzinfo=None)
        return value
    return value


def neutralise_text(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs as a formula (see the module docstring)."""
    if not text.startswith(_FORMULA_START) or _PHONE.fullmatch(text):
        return text
    return "'" + text


def _csv_cell(value: Any, zone: ZoneInfo | None, style: CsvStyle) -> str:
    value = _plain(value, zone)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | int):
        return str(value)
    if isinstance(value, Decimal | float):
        return str(value).replace(".", style.decimal)
    return neutralise_text(str(value))


def to_csv(
    labels: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: ZoneInfo | None = None,
    style: CsvStyle | None = None,
) -> bytes:
    """The rows as CSV in `style` (comma and decimal point by default), a header of `labels`."""
    chosen = style or CsvStyle()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=chosen.delimiter)
    writer.writerow([neutralise_text(label) for label in labels])
    for row in rows:
        writer.writerow([_csv_cell(value, zone, chosen) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(sheet: Any, value: Any, number_format: str | None) -> Cell:
    cell: Cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # A string cell is never evaluated: "=1+1" and "+380..." stay the text they are.
        cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif number_format and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        cell.number_format = number_format
    return cell


def to_xlsx(
    labels: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: ZoneInfo | None = None,
    sheet_title: str = "Report",
    formats: Sequence[str | None] | None = None,
) -> bytes:
    """The rows as an XLSX workbook with one sheet: a bold header row, then the values as
    typed; `formats` gives each column's number format (percent, money...) or None."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:MAX_SHEET_TITLE] or "Report")
    sheet.freeze_panes = "A2"
    header = []
    for label in labels:
        cell = _xlsx_cell(sheet, label, None)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    column_formats = list(formats or [])
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            number_format = column_formats[index] if index < len(column_formats) else None
            cells.append(_xlsx_cell(sheet, _plain(value, zone), number_format))
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
