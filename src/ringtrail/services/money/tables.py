"""Reading the CSV files people export from ad cabinets and CRMs: delimiters, headers, numbers.

A file may start with a byte-order mark, use commas, semicolons or tabs, write decimals
with a comma (`12,50`) and dates as `2024-05-01` or `01.05.2024`. Header names are matched
case-insensitively against aliases (`date`/`day`, `utm_source`...). Every error names the
line and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from ringtrail.services.errors import InvalidInput

T = TypeVar("T")
MAX_ROWS = 100_000
"""The most data lines one upload may hold."""
DELIMITERS = ",;\t"


def where(line: int | None, index: int | None, column: str | None = None) -> str:
    """How an error names its place: `line 4, column cost` (CSV) or `row 2` (JSON)."""
    place = f"line {line}" if line is not None else f"row {index}"
    return f"{place}, column {column}" if column else place


@dataclass(frozen=True)
class CsvLine:
    """One data line of a CSV: its line number and its cells by canonical column name."""

    line: int
    cells: Mapping[str, str]

    def text(self, column: str) -> str:
        """The stripped cell, or "" when the column is absent."""
        return self.cells.get(column, "").strip()

    def fail(self, column: str, message: str) -> InvalidInput:
        """An InvalidInput naming this line and `column`."""
        return InvalidInput(where(self.line, None, column), message)

    def value(self, column: str, parse: Callable[[str], T]) -> T | None:
        """The cell read by `parse`; None when empty; InvalidInput when it does not parse."""
        raw = self.text(column)
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError as exc:
            raise self.fail(column, str(exc)) from exc

    def required(self, column: str, parse: Callable[[str], T]) -> T:
        """Like `value`, but an empty cell is an error too."""
        result = self.value(column, parse)
        if result is None:
            raise self.fail(column, "the cell is empty")
        return result


def _delimiter(header: str) -> str:
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","


def _canonical(name: str) -> str:
    return name.strip().strip('"').lower().replace(" ", "_").replace("-", "_")


def read_csv(
    text: str, aliases: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> Iterator[CsvLine]:
    """The data lines of `text` with cells under canonical names (the keys of `aliases`).

    Raises InvalidInput for an empty file, a missing required column or too many lines.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if "\x00" in text:
        line = next(number for number, line in enumerate(lines, start=1) if "\x00" in line)
        raise InvalidInput(f"line {line}", "the file holds a NUL character; is it a CSV?")
    header_line = next((line for line in lines if line.strip()), None)
    if header_line is None:
        raise InvalidInput("line 1", "the file is empty; the first line must name the columns")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(header_line))
    header: list[str] | None = None
    lookup = {alias: name for name, names in aliases.items() for alias in (name, *names)}
    columns: list[str | None] = []
    count = 0
    for cells in _rows(reader):
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = cells
            columns = [lookup.get(_canonical(cell)) for cell in cells]
            missing = [name for name in required if name not in columns]
            if missing:
                raise InvalidInput(
                    f"line {reader.line_num}",
                    f"missing column {missing[0]!r}; the header must name " + ", ".join(required),
                )
            continue
        count += 1
        if count > MAX_ROWS:
            raise InvalidInput(f"line {reader.line_num}", f"more than {MAX_ROWS} lines")
        if len(cells) > len(columns):
            raise InvalidInput(
                f"line {reader.line_num}",
                f"{len(cells)} cells but the header names {len(columns)} columns",
            )
        yield CsvLine(
            reader.line_num,
            {name: cell for name, cell in zip(columns, cells, strict=False) if name is not None},
        )


def _rows(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; a line the csv module cannot read (a cell over its size limit, a
    stray quote at the end) is an InvalidInput naming it."""
    while True:
        try:
            cells: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"line {reader.line_num}", f"not readable as CSV: {exc}") from exc
        yield cells


def parse_decimal(raw: str) -> Decimal:
    """A number as people write it: `1234.5`, `12,50`, `1 234,50`, `1,234.50`, `1.234,50`.

    A lone comma is the decimal separator; with both marks the last one is.
    """
    text = raw.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not a number")
    return value


def parse_date(raw: str) -> date:
    """A day written `2024-05-01` (ISO) or `01.05.2024` (day first)."""
    text = raw.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{raw!r} is not a date (write 2024-05-01 or 01.05.2024)")


def parse_moment(raw: str) -> datetime:
    """An instant or a day: ISO 8601 (`2024-05-01T14:30:00+03:00`, `2024-05-01 14:30`) or a day.

    Without an offset the result is naive; the caller reads it in the project's time zone.
    """
    text = raw.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return datetime.combine(parse_date(text), datetime.min.time())
    except ValueError as exc:
        raise ValueError(f"{raw!r} is not a date or time (write 2024-05-01T14:30)") from exc


def parse_count(raw: str) -> int | None:
    """A whole, non-negative count; None for an empty cell."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{raw!r} is not a whole number")
    return int(text)


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""The largest CSV file an upload may be."""


def decode_upload(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (with or without a BOM), else Windows-1251 (old Excel)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("file", f"the file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")
