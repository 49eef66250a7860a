"""Attribution models share a deal over its touches; money sums and ratios."""

from __future__ import annotations

import random as _random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.money import (
    NO_TOUCH_KEY,
    AttributionModel,
    Money,
    Touch,
    cost_per,
    credit,
)

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def touch(minutes: int, source: str, campaign: str = "", medium: str = "cpc") -> Touch:
    if source == "(direct)":
        medium = "(none)"
    return Touch(T0 + timedelta(minutes=minutes), source, medium, campaign)


JOURNEY = [
    touch(0, "google", "brand"),
    touch(10, "facebook", "spring"),
    touch(20, "(direct)"),
]


def test_first_credits_the_first_touch() -> None:
    assert credit(JOURNEY, AttributionModel.FIRST) == [(("google", "brand"), Fraction(1))]


def test_last_credits_the_last_touch_even_when_direct() -> None:
    assert credit(JOURNEY, AttributionModel.LAST) == [(("(direct)", ""), Fraction(1))]


def test_last_non_direct_skips_the_direct_visit() -> None:
    assert credit(JOURNEY, AttributionModel.LAST_NON_DIRECT) == [
        (("facebook", "spring"), Fraction(1))
    ]


def test_last_non_direct_falls_back_to_the_last_touch_when_all_are_direct() -> None:
    touches = [touch(0, "(direct)"), touch(5, "(direct)")]
    assert credit(touches, AttributionModel.LAST_NON_DIRECT) == [(("(direct)", ""), Fraction(1))]


def test_a_touch_with_medium_none_counts_as_direct() -> None:
    touches = [touch(0, "google", "brand"), Touch(T0 + timedelta(minutes=1), "site", "(none)", "")]
    assert credit(touches, AttributionModel.LAST_NON_DIRECT) == [(("google", "brand"), Fraction(1))]


def test_linear_shares_equally_and_merges_the_same_key() -> None:
    touches = [*JOURNEY, touch(30, "google", "brand")]
    assert dict(credit(touches, AttributionModel.LINEAR)) == {
        ("google", "brand"): Fraction(1, 2),
        ("facebook", "spring"): Fraction(1, 4),
        ("(direct)", ""): Fraction(1, 4),
    }


@pytest.mark.parametrize("model", list(AttributionModel))
def test_no_touch_credits_the_none_key(model: AttributionModel) -> None:
    assert credit([], model) == [(NO_TOUCH_KEY, Fraction(1))]


def test_the_order_touches_are_given_in_does_not_matter() -> None:
    for model in AttributionModel:
        assert credit(list(reversed(JOURNEY)), model) == credit(JOURNEY, model)


SOURCES = st.sampled_from(["google", "facebook", "(direct)", "bing", "email"])
TOUCHES = st.lists(
    st.builds(
        touch,
        st.integers(min_value=0, max_value=10_000),
        SOURCES,
        st.sampled_from(["", "brand", "spring"]),
        st.sampled_from(["cpc", "organic", "(none)"]),
    ),
    max_size=12,
)


@given(TOUCHES, st.sampled_from(list(AttributionModel)))
def test_shares_always_add_up_to_one(touches: list[Touch], model: AttributionModel) -> None:
    assert sum(share for _key, share in credit(touches, model)) == 1


@given(TOUCHES.filter(bool), st.sampled_from(list(AttributionModel)))
def test_every_model_credits_only_keys_of_the_touches(
    touches: list[Touch], model: AttributionModel
) -> None:
    keys = {t.key for t in touches}
    assert {key for key, _share in credit(touches, model)} <= keys


@given(TOUCHES, st.randoms())
def test_linear_does_not_depend_on_order(touches: list[Touch], random: _random.Random) -> None:
    shuffled = list(touches)
    random.shuffle(shuffled)
    assert credit(shuffled, AttributionModel.LINEAR) == credit(touches, AttributionModel.LINEAR)


@given(TOUCHES)
def test_last_non_direct_never_picks_direct_when_another_touch_exists(
    touches: list[Touch],
) -> None:
    [(key, _share)] = credit(touches, AttributionModel.LAST_NON_DIRECT)
    if any(not t.is_direct for t in touches):
        chosen = [t for t in touches if t.key == key]
        assert any(not t.is_direct for t in chosen)
        assert key[0] != "(direct)"


def test_money_adds_up_and_gives_profit_and_romi() -> None:
    total = Money(Decimal("100"), Decimal("250"), 1) + Money(Decimal("50"), Decimal("0"), 0.5)
    assert total == Money(Decimal("150"), Decimal("250"), 1.5)
    assert total.profit == Decimal("100")
    assert total.romi == pytest.approx(100 / 150)
    assert Money.total([total, Money()]) == total


def test_romi_needs_a_cost() -> None:
    assert Money(revenue=Decimal("10")).romi is None
    assert Money(cost=Decimal("10")).romi == -1


def test_cost_per_rounds_to_cents_and_needs_a_count() -> None:
    assert cost_per(Decimal("100"), 3) == Decimal("33.33")
    assert cost_per(Decimal("100"), 1.5) == Decimal("66.67")
    assert cost_per(Decimal("100"), 0) is None
