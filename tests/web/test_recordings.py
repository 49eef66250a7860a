"""Range headers for recording streams: one range honoured, anything else the whole file."""

from __future__ import annotations

import pytest

from ringtrail.web.recordings import RangeNotSatisfiable, parse_byte_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        (None, None),
        ("", None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-499", (0, 499)),
        ("bytes=500-", (500, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("BYTES = 1-2", (1, 2)),
        ("bytes=0-1,4-5", None),  # several ranges: the whole file
        ("bytes=5-1", None),  # malformed: ignored
        ("bytes=a-b", None),
        ("bytes=+1-2", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_a_single_range_is_read_and_anything_else_ignored(
    header: str | None, wanted: tuple[int, int] | None
) -> None:
    assert parse_byte_range(header, SIZE) == wanted


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-1001", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_byte_range(header, SIZE)
