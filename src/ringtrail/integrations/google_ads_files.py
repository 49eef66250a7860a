"""Google Ads click conversions as a file in Google's import template (Upload > CSV).

The template, for accounts without API access:

    Parameters:TimeZone=Europe/Kyiv
    Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency
    Cj0KCQ...,Phone call,2026-12-07 14:05:00,150.00,UAH

The first row names the time zone of every `Conversion Time`, written `yyyy-MM-dd HH:mm:ss`
(no `T`, no offset: Google rejects those). Each row carries exactly one click id; iOS ids go
in their own `GBRAID` / `WBRAID` columns, which the header holds only when a row needs them.
Rows follow the same checks as the API (`google_ads.click_of`).
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ringtrail.domain.click_windows import ClickId

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CLICK_COLUMN = "Google Click ID"
IOS_COLUMNS = ("GBRAID", "WBRAID")
BASE_HEADER = (
    CLICK_COLUMN,
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
)
"""Google's header row for click conversions (must not be removed)."""
COLUMN_OF_KIND = {"gclid": CLICK_COLUMN, "gbraid": "GBRAID", "wbraid": "WBRAID"}


@dataclass(frozen=True)
class ClickConversionRow:
    """One conversion of the file: its click id, name, instant, value and currency."""

    click: ClickId
    name: str
    converted_at: datetime
    value: Decimal | None
    currency: str


def time_zone_row(zone: str) -> str:
    """`Parameters:TimeZone=<IANA id>`: the zone every Conversion Time is written in."""
    return f"Parameters:TimeZone={zone}"


def conversion_time(moment: datetime, zone: str) -> str:
    """`yyyy-MM-dd HH:mm:ss` in `zone`, as the template expects."""
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime(TIME_FORMAT)


def money(value: Decimal | None) -> str:
    """A value with a dot and two decimals; empty when the conversion has none."""
    return "" if value is None else f"{value.quantize(Decimal('0.01'))}"


def header_for(rows: Iterable[ClickConversionRow]) -> tuple[str, ...]:
    """The template header, with `GBRAID` / `WBRAID` after the gclid column when used."""
    kinds = {row.click.kind for row in rows}
    extra = tuple(
        column for column in IOS_COLUMNS if any(COLUMN_OF_KIND[k] == column for k in kinds)
    )
    return (CLICK_COLUMN, *extra, *BASE_HEADER[1:])


def click_conversions_csv(rows: list[ClickConversionRow], zone: str) -> str:
    """The import file: the time zone row, the header, one row per conversion."""
    header = header_for(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([time_zone_row(zone)])
    writer.writerow(header)
    for row in rows:
        cells = dict.fromkeys(header, "")
        cells[COLUMN_OF_KIND[row.click.kind]] = row.click.value
        cells["Conversion Name"] = row.name
        cells["Conversion Time"] = conversion_time(row.converted_at, zone)
        cells["Conversion Value"] = money(row.value)
        cells["Conversion Currency"] = row.currency if row.value is not None else ""
        writer.writerow([cells[column] for column in header])
    return out.getvalue()
