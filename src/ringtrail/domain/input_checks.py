"""What untrusted input must be before storage or date arithmetic sees it.

JSON no deeper than `MAX_JSON_DEPTH`; text the databases can hold (PostgreSQL refuses NUL
characters, and a lone surrogate cannot be written as UTF-8); moments between `EARLIEST` and
`LATEST`, so converting them to UTC or adding a call's duration cannot overflow. A refusal
says where the problem is, as a path of keys and indexes, so the answer can name the field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

MAX_JSON_DEPTH = 32
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

Where = tuple[str | int, ...]


class UnusableInput(ValueError):
    """A value that cannot be stored or computed with; `where` is its path in the input."""

    def __init__(self, where: Where, problem: str) -> None:
        super().__init__(f"{'.'.join(map(str, where))}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


class NotJson(UnusableInput):
    """The text is not JSON."""


class TooDeep(NotJson):
    """The JSON nests deeper than the limit."""


def load_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse `raw` and check it with `check_json`; NotJson, TooDeep or UnusableInput otherwise."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise TooDeep((), f"nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotJson((), str(exc)) from None
    check_json(data, max_depth=max_depth)
    return data


def check_json(value: Any, where: Where = (), max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse nesting deeper than `max_depth`, and keys or strings `check_text` refuses."""
    stack: list[tuple[Any, Where]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            check_text(item, path)
            continue
        if not isinstance(item, dict | list):
            continue
        if len(path) - len(where) >= max_depth:
            raise TooDeep((), f"nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(str(key), path)
                stack.append((child, (*path, str(key))))
        else:
            stack.extend((child, (*path, index)) for index, child in enumerate(item))


def check_text(text: str, where: Where = ()) -> str:
    """`text`, unless it holds a NUL character or a lone surrogate."""
    if "\x00" in text:
        raise UnusableInput(where, "must not contain NUL characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnusableInput(where, "must not contain lone surrogates (not UTF-8)") from None
    return text


def check_moment(moment: datetime, where: Where = ()) -> datetime:
    """`moment` (aware), unless it is before `EARLIEST` or not before `LATEST`."""
    # Compared without the offset first: a time zone moves a moment by less than a day, so
    # one near year 1 or 9999 is refused before converting it to UTC could overflow.
    naive = moment.replace(tzinfo=None)
    low, high = EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None)
    if not low <= naive < high or not EARLIEST <= moment.astimezone(UTC) < LATEST:
        raise UnusableInput(
            where,
            f"{moment.isoformat()} is outside {EARLIEST.year} to {LATEST.year - 1}",
        )
    return moment
