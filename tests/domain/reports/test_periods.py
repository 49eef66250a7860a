"""Calendar months of a period: the whole months month rollups can answer."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.reports.periods import Period, month_end, month_of, whole_months

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(days)
def test_a_month_runs_from_its_first_to_its_last_day(day: date) -> None:
    first, last = month_of(day), month_end(day)
    assert first.day == 1 and first <= day <= last
    assert (last + timedelta(days=1)).day == 1
    assert month_end(first) == last


@given(days, st.integers(0, 800))
def test_whole_months_are_exactly_the_months_inside_the_period(start: date, length: int) -> None:
    period = Period(start, start + timedelta(days=min(length, 365 * 2)))
    months = whole_months(period)
    covered = [day for month in months for day in Period(month, month_end(month)).dates()]
    assert len(covered) == len(set(covered))
    assert all(period.contains(day) for day in covered)
    # Every month not returned sticks out of the period.
    for day in period.dates():
        if day not in covered:
            assert month_of(day) < period.start or month_end(day) > period.end


def test_examples() -> None:
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2025, 2, 10)) == date(2025, 2, 28)
    assert whole_months(Period(date(2025, 1, 15), date(2025, 4, 30))) == [
        date(2025, 2, 1),
        date(2025, 3, 1),
        date(2025, 4, 1),
    ]
    assert whole_months(Period(date(2025, 3, 2), date(2025, 3, 31))) == []
