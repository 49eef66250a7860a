"""Periods compared as marketers count them: calendar months with calendar months, "this
month so far" with the same days of last month, and the same period a year earlier."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.reports.periods import (
    MAX_DAYS,
    Comparison,
    Period,
    Preset,
    add_months,
    month_end,
    month_of,
    preset_period,
)

days = st.dates(date(1901, 1, 1), date(2199, 12, 31))
months = st.builds(month_of, days)


def test_november_is_compared_with_the_whole_of_october() -> None:
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert november.previous() == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert november.compared_with(Comparison.PREVIOUS_YEAR) == Period(
        date(2025, 11, 1), date(2025, 11, 30)
    )


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        # March against February, leap or not
        ((date(2024, 3, 1), date(2024, 3, 31)), (date(2024, 2, 1), date(2024, 2, 29))),
        ((date(2025, 3, 1), date(2025, 3, 31)), (date(2025, 2, 1), date(2025, 2, 28))),
        # a quarter against the quarter before, a year against the year before
        ((date(2026, 4, 1), date(2026, 6, 30)), (date(2026, 1, 1), date(2026, 3, 31))),
        ((date(2026, 1, 1), date(2026, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31))),
        # this month so far against the same days of last month (shortened to its end)
        ((date(2026, 12, 1), date(2026, 12, 7)), (date(2026, 11, 1), date(2026, 11, 7))),
        ((date(2026, 3, 1), date(2026, 3, 30)), (date(2026, 2, 1), date(2026, 2, 28))),
        # this year so far against the same dates last year
        ((date(2026, 1, 1), date(2026, 12, 7)), (date(2025, 1, 1), date(2025, 12, 7))),
        # any other period: the same number of days just before
        ((date(2026, 11, 2), date(2026, 12, 1)), (date(2026, 10, 3), date(2026, 11, 1))),
        ((date(2026, 12, 1), date(2026, 12, 1)), (date(2026, 11, 1), date(2026, 11, 1))),
    ],
)
def test_previous_period_examples(period: tuple[date, date], previous: tuple[date, date]) -> None:
    assert Period(*period).previous() == Period(*previous)


def test_the_same_period_last_year_keeps_month_ends_and_leap_days() -> None:
    february = Period(date(2025, 2, 1), date(2025, 2, 28))
    assert february.same_period_last_year() == Period(date(2024, 2, 1), date(2024, 2, 29))
    leap_day = Period(date(2024, 2, 29), date(2024, 2, 29))
    assert leap_day.same_period_last_year() == Period(date(2023, 2, 28), date(2023, 2, 28))
    week = Period(date(2026, 11, 23), date(2026, 11, 29))
    assert week.same_period_last_year() == Period(date(2025, 11, 23), date(2025, 11, 29))


@given(days, st.integers(-40, 40))
def test_adding_months_lands_in_the_right_month_on_the_nearest_day(day: date, n: int) -> None:
    moved = add_months(day, n)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == n
    assert moved.day == min(day.day, month_end(moved).day)


@given(months, st.integers(1, 12))
def test_whole_calendar_months_compare_with_as_many_whole_months_just_before(
    first: date, count: int
) -> None:
    period = Period(first, month_end(add_months(first, count - 1)))
    previous = period.previous()
    assert previous.end == period.start - timedelta(days=1)
    assert previous.start.day == 1
    assert previous.start == add_months(first, -count)


@given(days, st.integers(1, MAX_DAYS))
def test_the_previous_period_always_ends_before_the_period_starts(start: date, length: int) -> None:
    period = Period(start, start + timedelta(days=length - 1))
    previous = period.previous()
    assert previous.end < period.start
    if start.day != 1:
        assert previous.days == period.days
        assert previous.end == period.start - timedelta(days=1)
    last_year = period.same_period_last_year()
    assert last_year.start.year in (start.year - 1, start.year - 2)
    assert abs(last_year.days - period.days) <= 1
    assert last_year.end < period.end


@given(days)
def test_the_same_period_last_year_is_a_year_earlier_day_for_day(day: date) -> None:
    period = Period(day, day)
    earlier = period.same_period_last_year()
    assert earlier.start == earlier.end
    assert (earlier.start.year, earlier.start.month) == (day.year - 1, day.month)
    if day.day == month_end(day).day:
        assert earlier.start == month_end(earlier.start)
    else:
        assert earlier.start.day == day.day


@given(days)
def test_last_month_preset_compares_with_the_calendar_month_before_it(today: date) -> None:
    last_month = preset_period(Preset.LAST_MONTH, today)
    previous = last_month.previous()
    assert previous.start == add_months(last_month.start, -1)
    assert previous.end == last_month.start - timedelta(days=1)


def test_the_last_day_of_february_a_year_after_a_leap_year_compares_with_the_leap_day() -> None:
    last_day = Period(date(2001, 2, 28), date(2001, 2, 28))
    assert last_day.same_period_last_year() == Period(date(2000, 2, 29), date(2000, 2, 29))
