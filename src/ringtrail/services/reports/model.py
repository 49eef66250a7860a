"""What a report is once computed: headline figures, tables and charts, ready to show or export.

One `Report` feeds the API (JSON), the dashboard page and the CSV/XLSX exports, so all three
always hold the same rows. Labels are English message ids marked with `N_`; the dashboard
translates them, the API and its exports keep the English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from ringtrail.domain.reports.periods import Period


def N_(message: str) -> str:
    """Marks `message` for the translation catalogs without translating it here."""
    return message


class ValueKind(StrEnum):
    """How a cell's value is read and formatted."""

    TEXT = "text"
    """A label (a source, a campaign...); the empty string is shown as "(not set)"."""
    COUNT = "count"
    SHARE = "share"
    """A fraction in [0, 1], shown as a percentage; None when there is nothing to divide."""
    SECONDS = "seconds"
    MONEY = "money"
    """An amount in the project's currency (a Decimal)."""
    RATIO = "ratio"
    """A ratio such as ROMI (1.5 = +150 %), shown as a percentage; may be negative."""
    DATE = "date"
    DATETIME = "datetime"
    """An aware instant, shown in the project's time zone."""
    LINK = "link"
    """A URL path inside the product (a recording), shown as a link or player."""


def _query_of(drill: dict[str, str | list[str]] | None) -> str | None:
    return None if drill is None else urlencode(drill, doseq=True)


@dataclass(frozen=True)
class Column:
    """One column of a table: the key of its cells, its label and how to read them."""

    key: str
    label: str
    kind: ValueKind
    translate: bool = False
    """Whether the cells are English labels marked with `N_` (translate them to show them)."""


@dataclass(frozen=True)
class Row:
    """One row: cell values by column key, and the calls-log filters that show its calls.

    `drill` maps a calls-log query parameter to its value, or to a list of values for a
    repeatable parameter (`status`, `tag`, `source`, `campaign`); `drill_query` encodes it.
    """

    cells: dict[str, Any]
    drill: dict[str, str | list[str]] | None = None

    @property
    def drill_query(self) -> str | None:
        """The drill parameters as a URL query string (without the "?")."""
        return _query_of(self.drill)


@dataclass(frozen=True)
class Table:
    """A table of a report. `totals` is the row of sums (None where a sum means nothing)."""

    key: str
    title: str
    columns: list[Column]
    rows: list[Row]
    totals: dict[str, Any] | None = None


class ChartKind(StrEnum):
    """The charts the dashboard draws."""

    LINE = "line"
    BAR = "bar"
    STACKED_BAR = "stacked_bar"
    PIE = "pie"
    HEATMAP = "heatmap"


@dataclass(frozen=True)
class Chart:
    """A chart drawn from one table: `x` is a column key, `series` the column keys plotted."""

    kind: ChartKind
    table: str
    x: str
    series: list[str]
    title: str = ""


@dataclass(frozen=True)
class Headline:
    """A headline figure with its value over the comparison period (domain periods)."""

    key: str
    label: str
    kind: ValueKind
    value: Any
    previous: Any = None
    drill: dict[str, str | list[str]] | None = None
    """The calls-log filters that list the calls the figure counts (see `Row.drill`)."""

    @property
    def drill_query(self) -> str | None:
        """The drill parameters as a URL query string (without the "?")."""
        return _query_of(self.drill)

    @property
    def change(self) -> float | None:
        """The relative change from the previous period (0.25 = +25 %), when it means something."""
        if not isinstance(self.value, int | float) or not isinstance(self.previous, int | float):
            try:
                value, previous = float(self.value), float(self.previous)
            except (TypeError, ValueError):
                return None
        else:
            value, previous = float(self.value), float(self.previous)
        if previous == 0:
            return None
        return (value - previous) / abs(previous)


@dataclass(frozen=True)
class Report:
    """A computed report."""

    id: str
    title: str
    period: Period
    previous_period: Period
    headlines: list[Headline] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, key: str) -> Table:
        """The table named `key`."""
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)
