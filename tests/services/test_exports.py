"""CSV and XLSX exports: the same rows, typed in XLSX, safe to open in a spreadsheet, and
readable by Excel in the reader's locale."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from ringtrail.services.exports import (
    PERCENT_FORMAT,
    csv_style,
    money_format,
    neutralise_text,
    to_csv,
    to_xlsx,
)

LABELS = ["Caller", "Started", "Day", "Calls", "Cost", "Note"]
LATE = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
ROWS = [
    ["+380501234567", LATE, date(2026, 3, 2), 3, Decimal("12.50"), "=1+1"],
    ["Київ", None, date(2026, 3, 3), 0, Decimal("0"), "@home"],
]
KYIV = ZoneInfo("Europe/Kyiv")


def _read(data: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_has_a_bom_a_header_and_times_in_the_projects_zone() -> None:
    data = to_csv(LABELS, ROWS, KYIV)
    assert data.startswith("\ufeff".encode())
    rows = _read(data)
    assert rows[0] == LABELS
    assert rows[1][:5] == ["+380501234567", "2026-03-02 00:30:00", "2026-03-02", "3", "12.50"]
    assert rows[2][0] == "Київ" and rows[2][1] == ""


def test_csv_quotes_cells_a_spreadsheet_would_run_as_formulas() -> None:
    rows = _read(to_csv(LABELS, ROWS))
    assert rows[1][5] == "'=1+1" and rows[2][5] == "'@home"


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+SUM(A1)", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "+38 050"],
)
def test_formula_starts_are_neutralised(text: str) -> None:
    assert neutralise_text(text) == "'" + text


@pytest.mark.parametrize("phone", ["+380501234567", "+38050•••••67", "+1202555"])
def test_phone_numbers_keep_their_plus_without_an_apostrophe(phone: str) -> None:
    assert neutralise_text(phone) == phone


@given(st.text(min_size=1, max_size=30))
def test_a_neutralised_cell_never_starts_a_formula_unless_it_is_only_a_phone(text: str) -> None:
    cell = neutralise_text(text)
    if cell[0] in "=+-@\t\r\n":
        # Only a "+" followed by digits (or mask bullets) passes: no name, reference or pipe.
        assert cell[0] == "+" and set(cell[1:]) <= set("0123456789•")


def test_russian_and_ukrainian_csv_use_semicolons_and_a_decimal_comma() -> None:
    for locale in ("ru", "uk", "uk-UA"):
        style = csv_style(locale)
        data = to_csv(["Доля", "Сумма"], [[0.25, Decimal("323000.50")]], style=style)
        text = data.decode("utf-8-sig")
        assert text.splitlines()[1] == "0,25;323000,50"
        assert _read(data, ";")[1] == ["0,25", "323000,50"]
    english = to_csv(["Share", "Sum"], [[0.25, Decimal("1.50")]], style=csv_style("en"))
    assert english.decode("utf-8-sig").splitlines()[1] == "0.25,1.50"


def test_xlsx_holds_the_same_rows_typed() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(LABELS, ROWS, KYIV, "Calls"))).active
    assert sheet is not None and sheet.title == "Calls"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == LABELS
    assert values[1][0] == "+380501234567"
    assert values[1][1] == datetime(2026, 3, 2, 0, 30)
    assert values[1][3] == 3 and values[1][4] == 12.5
    assert values[1][5] == "=1+1"
    assert values[2][5] == "@home"


def test_xlsx_writes_formula_like_text_as_string_cells_never_formulas() -> None:
    data = to_xlsx(LABELS, ROWS, KYIV, "Calls")
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["F2"].data_type == "s" and sheet["A2"].data_type == "s"


def test_xlsx_columns_carry_percent_and_currency_formats() -> None:
    data = to_xlsx(
        ["Share", "Revenue", "Source"],
        [[0.25, Decimal("323000"), "google"]],
        formats=[PERCENT_FORMAT, money_format("UAH"), None],
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["A2"].value == 0.25 and sheet["A2"].number_format == "0.0%"
    assert sheet["B2"].value == 323000 and sheet["B2"].number_format == '#,##0.00 "UAH"'
    assert sheet["C2"].number_format == "General"
