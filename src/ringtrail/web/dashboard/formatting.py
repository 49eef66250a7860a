"""Report figures as the reader expects them: numbers, money and dates in the page's locale.

A `Formatter` knows the page's locale, the project's currency and time zone, and how to say
"(not set)" in the page's language. `install_formatting` puts `format_cell`, `format_value`,
`format_change`, the `tr` filter (translates a label kept as an English msgid, without `%`
formatting) and the single-kind filters on a Jinja environment; they take the currency and
zone from the `project` in the template's context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from ringtrail.services.reports.model import N_, Column, Headline, ValueKind

Translate = Callable[[str], str]
NOT_SET_LABEL = N_("(not set)")
BAD_WHEN_UP = ("missed", "cost", "wait", "overflow", "needs_callback")
"""Headline keys containing one of these are figures where a rise is bad news."""


def _number(value: Any) -> float | Decimal | int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


# Babel parses the locale and the pattern on every call (tens of microseconds); a report page
# formats thousands of cells, most of them repeated values, so the results are cached.
_CACHE_SIZE = 65_536


@lru_cache(maxsize=32)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=_CACHE_SIZE)
def _decimal_text(number: float | Decimal | int, pattern: str | None, locale: str) -> str:
    return format_decimal(number, format=pattern, locale=_locale(locale))


@lru_cache(maxsize=_CACHE_SIZE)
def _percent_text(number: float | Decimal | int, pattern: str, locale: str) -> str:
    return format_percent(number, format=pattern, locale=_locale(locale))


@lru_cache(maxsize=_CACHE_SIZE)
def _money_text(number: float | Decimal | int, currency: str, locale: str) -> str:
    return format_currency(number, currency, locale=_locale(locale))


@lru_cache(maxsize=_CACHE_SIZE)
def _date_text(value: date, locale: str) -> str:
    return str(format_date(value, format="medium", locale=_locale(locale)))


@lru_cache(maxsize=32)
def _percent_pattern(locale: str) -> str:
    # The locale's own pattern (its spacing and sign placement) with one optional decimal.
    pattern: str = _locale(locale).percent_formats[None].pattern
    last_digit = pattern.rfind("0") + 1
    return f"{pattern[:last_digit]}.#{pattern[last_digit:]}" if last_digit else pattern


def format_seconds(value: Any) -> str:
    """A duration as m:ss under an hour, h:mm:ss from an hour up."""
    number = _number(value)
    if number is None:
        return "—"
    total = round(float(number))
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Formatter:
    """Formats values of every ValueKind for one locale, currency and time zone."""

    locale: str
    currency: str = "USD"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    translate: Translate = str

    def number(self, value: Any) -> str:
        """A count or other plain number with the locale's grouping."""
        number = _number(value)
        if number is None:
            return "—"
        if isinstance(number, float | Decimal) and number != int(number):
            return _decimal_text(number, "#,##0.##", self.locale)
        return _decimal_text(number, None, self.locale)

    def percent(self, value: Any) -> str:
        """A fraction (0.25) as a percentage ("25 %" in Russian)."""
        number = _number(value)
        if number is None:
            return "—"
        return _percent_text(number, _percent_pattern(self.locale), self.locale)

    def money(self, value: Any) -> str:
        """An amount in the project's currency."""
        number = _number(value)
        if number is None:
            return "—"
        return _money_text(number, self.currency, self.locale)

    def date(self, value: Any) -> str:
        """A local date."""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return str(value)
        if not isinstance(value, date):
            return "—"
        return _date_text(value, self.locale)

    def datetime(self, value: Any) -> str:
        """An aware instant in the project's time zone."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return str(value)
        if not isinstance(value, datetime):
            return "—"
        return str(format_datetime(value, format="medium", tzinfo=self.zone, locale=self.locale))

    def label(self, message: Any) -> str:
        """A label kept as an English msgid, in the page's language (non-text as it is)."""
        if not isinstance(message, str):
            return "" if message is None else str(message)
        # gettext("") is the catalog's header, never a label.
        return self.translate(message) if message else ""

    def text(self, value: Any) -> str:
        """A label; the empty value reads "(not set)" in the page's language."""
        if value is None or value == "":
            return self.translate(NOT_SET_LABEL)
        return str(value)

    def cell(self, value: Any, kind: ValueKind | str) -> str:
        """`value` formatted the way its column's kind says."""
        kind = ValueKind(kind)
        if kind is ValueKind.TEXT or kind is ValueKind.LINK:
            return self.text(value)
        if kind is ValueKind.COUNT:
            return self.number(value)
        if kind is ValueKind.SHARE or kind is ValueKind.RATIO:
            return self.percent(value)
        if kind is ValueKind.SECONDS:
            return format_seconds(value)
        if kind is ValueKind.MONEY:
            return self.money(value)
        if kind is ValueKind.DATE:
            return self.date(value)
        return self.datetime(value)

    def column_cell(self, value: Any, column: Column) -> str:
        """A cell of `column`: labels marked for translation are shown translated."""
        if column.translate and isinstance(value, str) and value:
            return self.label(value)
        return self.cell(value, column.kind)

    def change(self, headline: Headline) -> Change | None:
        """The arrow, percentage and colour of a headline's change, when there is one."""
        return change_of(headline, self)


@dataclass(frozen=True)
class Change:
    """How a headline moved since the previous period."""

    arrow: str
    """▲, ▼ or = (no change)."""
    text: str
    """The relative change as a signed percentage ("+25%")."""
    direction: str
    """up, down or flat."""
    tone: str
    """good, bad or neutral: a rise of missed calls or of a cost is bad."""

    @property
    def css(self) -> str:
        """The classes of the change's element in reports.css."""
        return f"change change-{self.direction} change-{self.tone}"


def bad_when_up(key: str) -> bool:
    """Whether a rise of the headline `key` is bad news (missed share, cost per call...)."""
    return any(part in key for part in BAD_WHEN_UP)


def change_of(headline: Headline, formatter: Formatter) -> Change | None:
    """The change of `headline` from its previous value, None when nothing can be compared."""
    ratio = headline.change
    if ratio is None:
        return None
    text = formatter.percent(abs(ratio))
    if ratio > 0:
        direction, arrow, text = "up", "▲", f"+{text}"
    elif ratio < 0:
        direction, arrow, text = "down", "▼", f"\u2212{text}"
    else:
        return Change("=", text, "flat", "neutral")
    good = (direction == "up") != bad_when_up(headline.key)
    return Change(arrow, text, direction, "good" if good else "bad")


def formatter_for(
    context: Context | dict[str, Any], locale: str, translate: Translate
) -> Formatter:
    """The formatter of a template's context: its project's currency and time zone."""
    project = context.get("project")
    if project is None:
        return _formatter(locale, "USD", "UTC", translate)
    return _formatter(locale, project.currency, project.timezone, translate)


@lru_cache(maxsize=256)
def _formatter(locale: str, currency: str, timezone: str, translate: Translate) -> Formatter:
    return Formatter(locale, currency, ZoneInfo(timezone), translate)


def install_formatting(environment: Environment, locale: str, translate: Translate) -> None:
    """Register the formatting functions and filters on a language's environment."""

    def of(context: Context) -> Formatter:
        return formatter_for(context, locale, translate)

    @pass_context
    def format_cell(context: Context, value: Any, kind: ValueKind | str) -> str:
        return of(context).cell(value, kind)

    @pass_context
    def format_value(context: Context, value: Any, column: Column) -> str:
        return of(context).column_cell(value, column)

    @pass_context
    def page_formatter(context: Context) -> Formatter:
        return of(context)

    @pass_context
    def format_change(context: Context, headline: Headline) -> Change | None:
        return of(context).change(headline)

    def kind_filter(kind: ValueKind) -> Callable[[Context, Any], str]:
        @pass_context
        def apply(context: Context, value: Any) -> str:
            return of(context).cell(value, kind)

        return apply

    environment.filters["tr"] = Formatter(locale, translate=translate).label
    environment.globals["format_cell"] = format_cell
    environment.globals["format_value"] = format_value
    environment.globals["page_formatter"] = page_formatter
    environment.globals["format_change"] = format_change
    environment.filters["format_cell"] = format_cell
    for name, kind in (
        ("number", ValueKind.COUNT),
        ("percent", ValueKind.SHARE),
        ("money", ValueKind.MONEY),
        ("seconds", ValueKind.SECONDS),
        ("local_date", ValueKind.DATE),
        ("local_datetime", ValueKind.DATETIME),
    ):
        environment.filters[name] = kind_filter(kind)
