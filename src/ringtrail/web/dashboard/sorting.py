"""The raw value a table cell sorts by (its `data-sort-value`), whatever its formatted text.

The sort script (static/sort.js) orders a numeric column by these numbers, so "UAH 1,200.00"
comes after "UAH 900.00" in every locale, and a date column by its instant.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def sort_value(value: Any) -> str:
    """A number as plain text ("1200.5"), a date as its day number, an instant as its Unix
    time; "" for an empty cell or text (text sorts by what it shows)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, datetime):
        return repr(value.timestamp())
    if isinstance(value, date):
        return str(value.toordinal())
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else ""
    if isinstance(value, int | float):
        return repr(value) if value == value else ""  # NaN sorts as empty
    return ""
