"""A cell's sort value keeps the order of the values it stands for, whatever their text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.web.dashboard.sorting import sort_value

amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)


@given(amounts, amounts)
def test_money_sorts_by_amount(a: Decimal, b: Decimal) -> None:
    assert (Decimal(sort_value(a)) < Decimal(sort_value(b))) == (a < b)


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**12), 10**12))
def test_numbers_read_back_as_themselves(share: float, count: int) -> None:
    assert float(sort_value(share)) == share and int(sort_value(count)) == count


@given(st.dates(), st.dates())
def test_dates_sort_by_day(a: date, b: date) -> None:
    assert (int(sort_value(a)) < int(sort_value(b))) == (a < b)


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_instants_sort_by_time(a: datetime, b: datetime) -> None:
    # repr() of the Unix time reads back exactly, so the order is the timestamps' order.
    assert float(sort_value(a)) == a.timestamp() and float(sort_value(b)) == b.timestamp()


def test_empty_cells_and_text_have_no_sort_value() -> None:
    assert [sort_value(v) for v in (None, "google", True, float("nan"))] == ["", "", "", ""]
    # "UAH 1,200.00" sorts after "UAH 900.00" by value, not text.
    assert float(sort_value(Decimal("1200.00"))) > float(sort_value(Decimal("900.00")))
