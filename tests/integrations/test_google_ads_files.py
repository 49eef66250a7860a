"""Google Ads' click-conversion import file: the time zone row, the header exactly as Google's
template has it, `yyyy-MM-dd HH:mm:ss` in that zone, and one click id per row."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.click_windows import ClickId
from ringtrail.integrations.google_ads_files import (
    ClickConversionRow,
    click_conversions_csv,
    conversion_time,
)

CALLED = datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC)


def row(
    kind: str = "gclid", value: str = "Cj0KCQiA-gclid", **changes: object
) -> ClickConversionRow:
    values: dict[str, object] = {
        "click": ClickId(kind, value),  # type: ignore[arg-type]
        "name": "Phone call",
        "converted_at": CALLED,
        "value": Decimal("150"),
        "currency": "UAH",
    }
    values.update(changes)
    return ClickConversionRow(**values)  # type: ignore[arg-type]


def test_the_file_is_googles_template_byte_for_byte() -> None:
    second = row(value="Cj0-second")
    second = ClickConversionRow(second.click, second.name, second.converted_at, None, "UAH")
    text = click_conversions_csv([row(), second], "Europe/Kyiv")
    assert text == (
        "Parameters:TimeZone=Europe/Kyiv\r\n"
        "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\r\n"
        "Cj0KCQiA-gclid,Phone call,2026-12-07 11:30:15,150.00,UAH\r\n"
        "Cj0-second,Phone call,2026-12-07 11:30:15,,\r\n"
    )


def test_ios_ids_go_in_their_own_columns_one_id_per_row() -> None:
    text = click_conversions_csv(
        [row(), row("gbraid", "GB-1"), row("wbraid", "WB-1")], "Europe/Kyiv"
    )
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[1] == [
        "Google Click ID", "GBRAID", "WBRAID", "Conversion Name", "Conversion Time",
        "Conversion Value", "Conversion Currency",
    ]  # fmt: skip
    ids = [line[:3] for line in lines[2:]]
    assert ids == [["Cj0KCQiA-gclid", "", ""], ["", "GB-1", ""], ["", "", "WB-1"]]


def test_an_empty_file_still_has_the_time_zone_and_header_rows() -> None:
    lines = click_conversions_csv([], "UTC").splitlines()
    assert lines == [
        "Parameters:TimeZone=UTC",
        "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency",
    ]


def test_names_with_commas_are_quoted() -> None:
    text = click_conversions_csv([row(name="Call, target")], "UTC")
    assert list(csv.reader(io.StringIO(text)))[2][1] == "Call, target"


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Europe/Kyiv", "America/New_York", "Asia/Kolkata", "UTC"]),
)
def test_conversion_time_never_has_a_t_a_z_or_an_offset(moment: datetime, zone: str) -> None:
    text = conversion_time(moment, zone)
    assert len(text) == 19 and text[10] == " "
    assert "T" not in text and "Z" not in text and "+" not in text
    assert datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
