"""Figures as the reader's locale writes them: numbers, shares, money, dates in the project's
zone, durations, "(not set)", and which way a headline's change points."""

# ruff: noqa: RUF001 - the expected strings are Russian and Ukrainian on purpose

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from jinja2 import DictLoader

from ringtrail.services.reports.model import Column, Headline, ValueKind
from ringtrail.web.dashboard.formatting import Formatter, format_seconds
from ringtrail.web.dashboard.i18n import Catalogs
from ringtrail.web.dashboard.templating import make_environment

KYIV = ZoneInfo("Europe/Kyiv")
NBSP = "\u00a0"


def plain(text: str) -> str:
    """`text` with the locale's special spaces (no-break, narrow) as plain spaces."""
    return re.sub(r"\s", " ", text)


def formatter(locale: str) -> Formatter:
    return Formatter(locale, "UAH", KYIV)


@pytest.mark.parametrize(
    ("locale", "number", "share", "money"),
    [
        ("en", "1,234,567", "12.5%", "UAH1,234.50"),
        ("ru", f"1{NBSP}234{NBSP}567", f"12,5{NBSP}%", f"1{NBSP}234,50{NBSP}₴"),
        ("uk", f"1{NBSP}234{NBSP}567", "12,5%", f"1{NBSP}234,50{NBSP}₴"),
    ],
)
def test_numbers_shares_and_money_follow_the_locale(
    locale: str, number: str, share: str, money: str
) -> None:
    fmt = formatter(locale)
    assert fmt.cell(1234567, ValueKind.COUNT) == number
    assert fmt.cell(0.125, ValueKind.SHARE) == share
    assert fmt.cell(Decimal("1234.5"), ValueKind.MONEY) == money


def test_a_ratio_is_a_signed_percentage_and_nothing_is_a_dash() -> None:
    fmt = formatter("en")
    assert fmt.cell(1.5, ValueKind.RATIO) == "150%"
    assert fmt.cell(-0.25, ValueKind.RATIO) == "-25%"
    for kind in (ValueKind.COUNT, ValueKind.SHARE, ValueKind.MONEY, ValueKind.SECONDS):
        assert fmt.cell(None, kind) == "—"


@pytest.mark.parametrize(
    ("locale", "expected_day", "expected_instant"),
    [
        ("en", "Mar 18, 2026", "Mar 18, 2026, 12:30:00 AM"),
        ("ru", "18 мар. 2026 г.", "18 мар. 2026 г., 00:30:00"),
        ("uk", "18 бер. 2026 р.", "18 бер. 2026 р., 00:30:00"),
    ],
)
def test_an_instant_before_midnight_utc_is_the_next_day_in_kyiv(
    locale: str, expected_day: str, expected_instant: str
) -> None:
    fmt = formatter(locale)
    instant = datetime(2026, 3, 17, 22, 30, tzinfo=UTC)
    assert plain(fmt.cell(instant, ValueKind.DATETIME)) == expected_instant
    assert plain(fmt.cell(instant, ValueKind.DATE)) == expected_day
    assert plain(fmt.cell(date(2026, 3, 18), ValueKind.DATE)) == expected_day


def test_durations_are_minutes_and_seconds_then_hours() -> None:
    assert format_seconds(0) == "0:00"
    assert format_seconds(65) == "1:05"
    assert format_seconds(59.6) == "1:00"
    assert format_seconds(3725) == "1:02:05"
    assert formatter("ru").cell(125, ValueKind.SECONDS) == "2:05"


def test_an_empty_label_reads_not_set_in_the_page_language() -> None:
    translations = {"(not set)": "(не задано)", "Direct": "Прямые заходы"}
    fmt = Formatter("ru", translate=lambda message: translations.get(message, message))
    assert fmt.cell("", ValueKind.TEXT) == "(не задано)"
    assert fmt.cell(None, ValueKind.TEXT) == "(не задано)"
    assert fmt.cell("google", ValueKind.TEXT) == "google"
    # Only columns marked for translation translate their values.
    assert fmt.column_cell("Direct", Column("origin", "Origin", ValueKind.TEXT, True)) == (
        "Прямые заходы"
    )
    assert fmt.column_cell("Direct", Column("source", "Source", ValueKind.TEXT)) == "Direct"


@pytest.mark.parametrize(
    ("key", "value", "previous", "arrow", "text", "tone"),
    [
        ("calls", 125, 100, "▲", "+25%", "good"),
        ("calls", 75, 100, "▼", "\u221225%", "bad"),
        ("missed_share", 0.3, 0.2, "▲", "+50%", "bad"),
        ("cost_per_target", 80, 100, "▼", "\u221220%", "good"),
        ("average_wait_seconds", 12, 10, "▲", "+20%", "bad"),
    ],
)
def test_a_change_points_its_way_and_is_coloured_by_what_it_means(
    key: str, value: float, previous: float, arrow: str, text: str, tone: str
) -> None:
    change = formatter("en").change(Headline(key, key, ValueKind.COUNT, value, previous))
    assert change is not None
    assert (change.arrow, change.text, change.tone) == (arrow, text, tone)
    assert f"change-{tone}" in change.css


def test_no_change_without_a_previous_value() -> None:
    fmt = formatter("en")
    assert fmt.change(Headline("calls", "Calls", ValueKind.COUNT, 5, None)) is None
    assert fmt.change(Headline("calls", "Calls", ValueKind.COUNT, 5, 0)) is None
    flat = fmt.change(Headline("calls", "Calls", ValueKind.COUNT, 5, 5))
    assert flat is not None and flat.direction == "flat"


@pytest.mark.parametrize(
    ("locale", "expected"), [("en", "UAH1,234.50"), ("uk", f"1{NBSP}234,50{NBSP}₴")]
)
def test_every_language_environment_formats_with_the_projects_currency(
    locale: str, expected: str
) -> None:
    environment = make_environment(Catalogs.load("en"), locale, Path("."))
    environment.loader = DictLoader(
        {"t.html": "{{ format_cell(amount, 'money') }}|{{ when | local_date }}|{{ '' | tr }}"}
    )
    project = SimpleNamespace(currency="UAH", timezone="Europe/Kyiv")
    html = environment.get_template("t.html").render(
        project=project, amount=Decimal("1234.5"), when=datetime(2026, 3, 17, 22, 30, tzinfo=UTC)
    )
    money, day, empty = html.split("|")
    assert money == expected
    assert day == formatter(locale).date(date(2026, 3, 18))
    assert empty == ""
