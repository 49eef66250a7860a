"""A report table as Excel reads it: percent and currency formats in XLSX, the reader's CSV
style, recording links that open in a browser, and a file name with project and period."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from ringtrail.domain.reports.periods import Period
from ringtrail.services.exports import csv_style
from ringtrail.services.reports.exporting import report_table_export
from ringtrail.services.reports.model import Column, Report, Row, Table, ValueKind

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
TABLE = Table(
    key="main",
    title="Profit",
    columns=[
        Column("source", "Source", ValueKind.TEXT),
        Column("share", "Share of calls", ValueKind.SHARE),
        Column("revenue", "Revenue", ValueKind.MONEY),
        Column("romi", "ROMI", ValueKind.RATIO),
        Column("call_id", "Call", ValueKind.COUNT),
        Column("recording", "Recording", ValueKind.LINK),
    ],
    rows=[
        Row(
            {
                "source": "google",
                "share": 0.25,
                "revenue": Decimal("323000.00"),
                "romi": 1.5,
                "call_id": 7,
                "recording": "/api/v1/projects/1/calls/7/recording",
            }
        ),
        Row({"source": "bing", "share": 0.75, "revenue": Decimal("0.50"), "call_id": 8}),
    ],
)
REPORT = Report("profit", "Profit", PERIOD, Period(date(2026, 10, 1), date(2026, 10, 31)))
REPORT.tables.append(TABLE)


def _links(call_ids: object) -> dict[int, str]:
    assert list(call_ids) == [7, 8]  # type: ignore[call-overload]
    return {7: "https://calls.example/recordings/7.123.sig"}


def test_xlsx_shows_shares_as_percent_and_money_in_the_projects_currency() -> None:
    content, _, _ = report_table_export(REPORT, None, str, "xlsx", currency="UAH")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert (sheet["B2"].value, sheet["B2"].number_format) == (0.25, "0.0%")
    assert (sheet["C2"].value, sheet["C2"].number_format) == (323000, '#,##0.00 "UAH"')
    assert sheet["D2"].number_format == "0.0%"
    assert sheet["A2"].number_format == "General"


def test_the_recording_column_holds_a_browser_link_not_the_api_path() -> None:
    content, _, _ = report_table_export(REPORT, None, str, "csv", recording_links=_links)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0]["Recording"] == "https://calls.example/recordings/7.123.sig"
    assert rows[1]["Recording"] == ""
    assert "/api/" not in content.decode("utf-8-sig")


def test_a_ukrainian_csv_uses_semicolons_and_decimal_commas() -> None:
    content, _, _ = report_table_export(REPORT, None, str, "csv", csv_style=csv_style("uk"))
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Source;Share of calls;Revenue;ROMI")
    assert lines[1].startswith("google;0,25;323000,00;1,5;7;")


def test_the_file_name_says_project_report_and_period() -> None:
    _, _, name = report_table_export(REPORT, None, str, "xlsx", project="acme-realty")
    assert name == "ringtrail-acme-realty-profit-2026-11-01-2026-11-30.xlsx"
    _, _, unnamed = report_table_export(REPORT, None, str, "csv", project="Київ")
    assert unnamed == "ringtrail-profit-2026-11-01-2026-11-30.csv"
