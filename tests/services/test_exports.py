"""CSV and XLSX exports: the same rows, typed in XLSX, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from ringtrail.services.exports import to_csv, to_xlsx

LABELS = ["Caller", "Started", "Day", "Calls", "Cost", "Note"]
LATE = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
ROWS = [
    ["+380501234567", LATE, date(2026, 3, 2), 3, Decimal("12.50"), "=1+1"],
    ["Київ", None, date(2026, 3, 3), 0, Decimal("0"), "@home"],
]
KYIV = ZoneInfo("Europe/Kyiv")


def test_csv_has_a_bom_a_header_and_times_in_the_projects_zone() -> None:
    data = to_csv(LABELS, ROWS, KYIV)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == LABELS
    assert rows[1][:5] == ["'+380501234567", "2026-03-02 00:30:00", "2026-03-02", "3", "12.50"]
    assert rows[2][0] == "Київ" and rows[2][1] == ""


def test_csv_quotes_cells_a_spreadsheet_would_run_as_formulas() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(LABELS, ROWS).decode("utf-8-sig"))))
    assert rows[1][5] == "'=1+1" and rows[2][5] == "'@home"


def test_xlsx_holds_the_same_rows_typed() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(LABELS, ROWS, KYIV, "Calls"))).active
    assert sheet is not None and sheet.title == "Calls"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == LABELS
    assert values[1][0] == "+380501234567"
    assert values[1][1] == datetime(2026, 3, 2, 0, 30)
    assert values[1][3] == 3 and values[1][4] == 12.5
    assert values[1][5] == "'=1+1"
    assert values[2][5] == "@home"
