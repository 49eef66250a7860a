"""Untrusted input is refused, with where it is, before storage or date arithmetic sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ringtrail.domain.input_checks import (
    MAX_JSON_DEPTH,
    NotJson,
    TooDeep,
    UnusableInput,
    check_moment,
    load_json,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_up_to_the_depth_limit_loads_and_one_level_more_is_too_deep() -> None:
    assert load_json(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(TooDeep):
        load_json(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(TooDeep):
        load_json(nested(100_000))


def test_text_that_is_not_json_is_not_json() -> None:
    with pytest.raises(NotJson) as refused:
        load_json(b"{nope")
    assert not isinstance(refused.value, TooDeep)
    with pytest.raises(NotJson):
        load_json(b"\xff\xfe")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ('{"url": "a\\u0000b"}', ("url",)),
        ('{"a": [{"b": "\\ud800"}]}', ("a", 0, "b")),
        ('{"k\\u0000": 1}', ()),
        ('{"x": {"y\\udfff": 1}}', ("x",)),
    ],
)
def test_nul_and_lone_surrogates_are_refused_where_they_are(
    raw: str, where: tuple[str | int, ...]
) -> None:
    with pytest.raises(UnusableInput) as refused:
        load_json(raw)
    assert refused.value.where == where
    assert not isinstance(refused.value, NotJson)


def test_ordinary_unicode_text_is_kept() -> None:
    assert load_json('{"name": "Київ 😀"}') == {"name": "Київ 😀"}


@pytest.mark.parametrize(
    "moment",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(2100, 1, 1, tzinfo=UTC),
        datetime(2000, 1, 1, 4, tzinfo=timezone(timedelta(hours=5))),
        datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
def test_moments_outside_the_plausible_range_are_refused_without_overflowing(
    moment: datetime,
) -> None:
    with pytest.raises(UnusableInput) as refused:
        check_moment(moment, ("occurred_at",))
    assert refused.value.where == ("occurred_at",)


def test_moments_inside_the_range_are_kept() -> None:
    kyiv = timezone(timedelta(hours=2))
    for moment in (
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 23, 10, tzinfo=kyiv),
        datetime(2099, 12, 31, 23, 59, tzinfo=UTC),
    ):
        assert check_moment(moment) is moment
