"""Report periods: local calendar days in the project's time zone, and the period compared.

A period is a closed range of local dates (`start` to `end`, both included). Its instants
are found in the project's time zone, so a day across a daylight-saving change is 23 or 25
hours long and a call at 23:30 local time belongs to that local day, whatever UTC says.

Periods are compared as marketers count them (`Comparison`):
- the previous period: a period that starts on the first of a month and spans up to a year
  is compared with the same calendar months just before (November with October 1-31, a
  quarter with the quarter before, "this month" so far with the same days of last month);
  any other period with the same number of days just before it;
- the same period last year: the same dates a year earlier (29 February becomes the 28th,
  and a period ending on a month's last day ends on that month's last day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366
"""The longest period a report accepts."""


class Preset(StrEnum):
    """The period picker's named periods, each relative to today in the project's zone."""

    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    LAST_90_DAYS = "last_90_days"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_YEAR = "this_year"


class Comparison(StrEnum):
    """What a report's period is compared with."""

    PREVIOUS = "previous"
    PREVIOUS_YEAR = "previous_year"


DEFAULT_COMPARISON = Comparison.PREVIOUS
CALENDAR_MONTHS = 12
"""The longest period (in calendar months) compared month for month rather than day for day."""


class InvalidPeriod(ValueError):
    """A period that cannot be used; the message says why."""


@dataclass(frozen=True)
class Period:
    """Local dates from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidPeriod("the period ends before it starts")
        if self.days > MAX_DAYS:
            raise InvalidPeriod(f"a period may be at most {MAX_DAYS} days long")

    @property
    def days(self) -> int:
        """How many local days the period covers."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period this one is compared with by default: the same calendar months just
        before for a period that starts on a month's first day (up to a year long), else
        the same number of days just before."""
        months = months_spanned(self)
        if self.start.day == 1 and months <= CALENDAR_MONTHS:
            return self._shifted(-months)
        return self.days_before()

    def days_before(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def same_period_last_year(self) -> Period:
        """The same dates a year earlier (the nearest valid ones)."""
        try:
            return self._shifted(-12)
        except InvalidPeriod:  # a leap day made it one day longer than the longest period
            end = _end_shifted(self.end, -12)
            return Period(end - timedelta(days=MAX_DAYS - 1), end)

    def compared_with(self, comparison: Comparison) -> Period:
        """The period `comparison` names for this one."""
        if comparison is Comparison.PREVIOUS_YEAR:
            return self.same_period_last_year()
        return self.previous()

    def _shifted(self, months: int) -> Period:
        end = _end_shifted(self.end, months)
        # A single day moves as its end does: the last of February stays the last of February.
        start = end if self.start == self.end else add_months(self.start, months)
        return Period(start, end)

    def dates(self) -> list[date]:
        """Every local date of the period, in order."""
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def contains(self, day: date) -> bool:
        """Whether `day` falls in the period."""
        return self.start <= day <= self.end

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants [from, to) the period covers in `zone`."""
        return day_start(self.start, zone), day_start(self.end + timedelta(days=1), zone)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which local `day` begins in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def month_of(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_end(month: date) -> date:
    """The last day of `month`'s month."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier when negative); a day the
    target month lacks (31 April, 29 February) becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    first = date(index // 12, index % 12 + 1, 1)
    return first.replace(day=min(day.day, month_end(first).day))


def months_spanned(period: Period) -> int:
    """How many calendar months the period touches (1 for a period inside one month)."""
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1


def _end_shifted(day: date, months: int) -> date:
    # A period that ends on a month's last day ends on the last day of the month it moves to.
    if day == month_end(day):
        return month_end(add_months(month_of(day), months))
    return add_months(day, months)


def whole_months(period: Period) -> list[date]:
    """The first days of the calendar months that lie wholly inside `period`."""
    months = []
    month = month_of(period.start)
    if month < period.start:
        month = month_of(month_end(month) + timedelta(days=1))
    while month_end(month) <= period.end:
        months.append(month)
        month = month_of(month_end(month) + timedelta(days=1))
    return months


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The local date of an aware instant in `zone`."""
    return moment.astimezone(zone).date()


def preset_period(preset: Preset, today: date) -> Period:
    """The period a named preset means when it is `today` in the project's zone."""
    if preset is Preset.TODAY:
        return Period(today, today)
    if preset is Preset.YESTERDAY:
        yesterday = today - timedelta(days=1)
        return Period(yesterday, yesterday)
    if preset is Preset.THIS_MONTH:
        return Period(today.replace(day=1), today)
    if preset is Preset.LAST_MONTH:
        last_day = today.replace(day=1) - timedelta(days=1)
        return Period(last_day.replace(day=1), last_day)
    if preset is Preset.THIS_YEAR:
        return Period(today.replace(month=1, day=1), today)
    days = {Preset.LAST_7_DAYS: 7, Preset.LAST_30_DAYS: 30, Preset.LAST_90_DAYS: 90}[preset]
    return Period(today - timedelta(days=days - 1), today)


DEFAULT_PRESET = Preset.LAST_30_DAYS


def parse_period(
    today: date,
    preset: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Period:
    """The period a picker asked for: explicit dates win over a preset; neither means 30 days.

    `start` and `end` are ISO dates (`end` included); one alone means a single day.
    Raises InvalidPeriod naming what could not be read.
    """
    if start or end:
        try:
            first = date.fromisoformat(start or end or "")
            last = date.fromisoformat(end or start or "")
        except ValueError as exc:
            raise InvalidPeriod("dates must be written as YYYY-MM-DD") from exc
        return Period(first, last)
    if preset:
        try:
            return preset_period(Preset(preset), today)
        except ValueError as exc:
            names = ", ".join(p.value for p in Preset)
            raise InvalidPeriod(f"unknown period {preset!r}; use one of: {names}") from exc
    return preset_period(DEFAULT_PRESET, today)
