"""Reading costs and deals CSVs as people export them: delimiters, decimal commas, a BOM, errors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from ringtrail.services.errors import InvalidInput
from ringtrail.services.money.costs import CostRow, parse_costs_csv
from ringtrail.services.money.deals import DealRow, parse_deals_csv
from ringtrail.services.money.tables import decode_upload, parse_decimal


def test_a_plain_comma_separated_costs_file() -> None:
    text = (
        "date,source,medium,campaign,cost,clicks,impressions\n"
        "2025-03-01,google,cpc,brand,100.50,12,3400\n"
        "2025-03-01,facebook,paid,spring,50,,\n"
    )
    assert parse_costs_csv(text) == [
        CostRow(date(2025, 3, 1), "google", Decimal("100.50"), "cpc", "brand", None, 12, 3400, 2),
        CostRow(date(2025, 3, 1), "facebook", Decimal("50"), "paid", "spring", None, None, None, 3),
    ]


def test_semicolons_decimal_commas_a_bom_and_day_first_dates() -> None:
    text = "\ufeffDay;UTM_Source;Campaign;Cost;Currency\r\n01.03.2025;google;brand;1 234,50;uah\r\n"
    [row] = parse_costs_csv(text)
    assert (row.day, row.source, row.campaign, row.cost) == (
        date(2025, 3, 1),
        "google",
        "brand",
        Decimal("1234.50"),
    )
    assert row.currency == "uah"
    assert row.medium == "cpc"


def test_quoted_decimal_comma_in_a_comma_separated_file() -> None:
    [row] = parse_costs_csv('date,source,cost\n2025-03-01,google,"12,50"\n')
    assert row.cost == Decimal("12.50")


def test_blank_lines_are_skipped() -> None:
    assert len(parse_costs_csv("\n\ndate,source,cost\n\n2025-03-01,google,1\n\n")) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", "12"),
        ("12,5", "12.5"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
    ],
)
def test_numbers_as_people_write_them(raw: str, expected: str) -> None:
    assert parse_decimal(raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("date,source,cost\n2025-03-01,google,abc\n", "line 2, column cost"),
        ("date,source,cost\n2025-03-01,google,1\n2025-13-01,google,1\n", "line 3, column day"),
        ("date,source,cost\n2025-03-01,,1\n", "line 2, column source"),
        ("date,source,cost\n2025-03-01,google,\n", "line 2, column cost"),
        ("date;source;cost;clicks\n2025-03-01;google;1;many\n", "line 2, column clicks"),
        ("date,source\n2025-03-01,google\n", "line 1"),
        ("", "line 1"),
        ("date,source,cost\n2025-03-01,google,1,extra\n", "line 2"),
        ("date,source,cost\n2025-03-01,goo\x00gle,1\n", "line 2"),
        ('date,source,cost\n2025-03-01,google,1\n2025-03-01,"' + "x" * 200_000, "line 3"),
    ],
)
def test_a_bad_costs_file_names_the_line_and_column(text: str, place: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_costs_csv(text)
    assert caught.value.field == place


def test_a_deals_file_with_a_call_id_or_a_phone() -> None:
    text = (
        "deal_id;call_id;phone;status;revenue;closed_at\n"
        "D-1;42;;Won;1 500,00;2025-03-02\n"
        "D-2;;(067) 123-45-67;open;;\n"
    )
    assert parse_deals_csv(text) == [
        DealRow("D-1", "Won", Decimal("1500.00"), 42, None, None, datetime(2025, 3, 2), 2),
        DealRow("D-2", "open", Decimal(0), None, "(067) 123-45-67", None, None, 3),
    ]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("deal_id,status,call_id\nD-1,won,x\n", "line 2, column call_id"),
        ("deal_id,status,revenue\nD-1,won,ten\n", "line 2, column revenue"),
        ("deal_id,status,closed_at\nD-1,won,yesterday\n", "line 2, column closed_at"),
        ("status,revenue\nwon,10\n", "line 1"),
    ],
)
def test_a_bad_deals_file_names_the_line_and_column(text: str, place: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_deals_csv(text)
    assert caught.value.field == place


def test_uploads_are_read_as_utf8_or_windows_1251() -> None:
    yellow = "\u0436\u043e\u0432\u0442\u0438\u0439"  # Ukrainian, Cyrillic letters
    assert decode_upload(("\ufeff" + yellow).encode()) == yellow
    assert decode_upload(yellow.encode("cp1251")) == yellow
