"""The click window and the "conversion after click" rules, with their refusals in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.click_windows import (
    CALL_BEFORE_VISIT,
    CLOCK_SKEW,
    CONVERSION_BEFORE_CLICK,
    CONVERSION_IN_FUTURE,
    GOOGLE_CLICK_WINDOW,
    YANDEX_LINK_WINDOW,
    check_click_window,
    check_yandex_window,
    google_click_id,
    no_google_click,
    yandex_id,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
offsets = st.integers(min_value=-200 * 86_400, max_value=200 * 86_400).map(
    lambda s: timedelta(seconds=s)
)


def test_a_click_ninety_days_old_is_still_in_the_window() -> None:
    clicked = NOW - GOOGLE_CLICK_WINDOW
    assert check_click_window(clicked, NOW, NOW) is None


def test_a_click_older_than_ninety_days_is_refused_in_words() -> None:
    clicked = NOW - GOOGLE_CLICK_WINDOW - timedelta(seconds=1)
    refusal = check_click_window(clicked, clicked + timedelta(days=1), NOW)
    assert refusal is not None
    assert refusal.words == "click older than 90 days"


def test_a_conversion_before_its_click_is_refused() -> None:
    assert check_click_window(NOW, NOW - timedelta(seconds=1), NOW) == CONVERSION_BEFORE_CLICK
    assert CONVERSION_BEFORE_CLICK.words == "conversion time is before the click"


def test_no_gclid_from_organic_search_says_so() -> None:
    assert no_google_click("google", "organic").words.startswith(
        "no gclid: the visit came from organic search"
    )
    assert no_google_click("(direct)", "(none)").code == "no_gclid"


@given(click=offsets, conversion=offsets)
def test_a_conversion_is_sent_exactly_when_after_the_click_within_the_window(
    click: timedelta, conversion: timedelta
) -> None:
    clicked, converted = NOW + click, NOW + conversion
    refusal = check_click_window(clicked, converted, NOW)
    allowed = (
        clicked <= converted <= NOW + CLOCK_SKEW
        and converted - clicked <= GOOGLE_CLICK_WINDOW
        and NOW - clicked <= GOOGLE_CLICK_WINDOW
    )
    assert (refusal is None) == allowed
    if converted < clicked:
        assert refusal == CONVERSION_BEFORE_CLICK
    elif converted > NOW + CLOCK_SKEW:
        assert refusal == CONVERSION_IN_FUTURE


@given(days=st.integers(min_value=1, max_value=90), age=offsets)
def test_a_shorter_window_never_lets_through_what_a_longer_one_refuses(
    days: int, age: timedelta
) -> None:
    clicked = NOW - abs(age)
    short = check_click_window(clicked, NOW, NOW, timedelta(days=days))
    full = check_click_window(clicked, NOW, NOW)
    if full is not None:
        assert short is not None


@given(
    gclid=st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=20)),
    gbraid=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
    wbraid=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
)
def test_exactly_one_click_id_is_chosen_and_gclid_wins(
    gclid: str | None, gbraid: str | None, wbraid: str | None
) -> None:
    chosen = google_click_id(gclid, gbraid, wbraid)
    present = [
        (kind, value.strip())
        for kind, value in (("gclid", gclid), ("gbraid", gbraid), ("wbraid", wbraid))
        if value and value.strip()
    ]
    if not present:
        assert chosen is None
    else:
        assert chosen is not None
        assert (chosen.kind, chosen.value) == present[0]


def test_yandex_prefers_the_client_id_and_else_the_yclid() -> None:
    assert yandex_id("1628529640459314054", "123") == yandex_id("1628529640459314054", None)
    found = yandex_id(None, "5739201")
    assert found is not None and found.kind == "YCLID"
    assert yandex_id(None, None) is None
    assert yandex_id("1628529640459314054", None, prefer="YCLID") is None


@given(visit=offsets, call=offsets)
def test_metrica_links_a_call_only_after_its_visit_within_21_days(
    visit: timedelta, call: timedelta
) -> None:
    visited, called = NOW + visit, NOW + call
    refusal = check_yandex_window(visited, called, NOW)
    allowed = visited <= called <= NOW + CLOCK_SKEW and NOW - visited <= YANDEX_LINK_WINDOW
    assert (refusal is None) == allowed
    if called < visited:
        assert refusal == CALL_BEFORE_VISIT
