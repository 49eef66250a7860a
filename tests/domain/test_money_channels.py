"""Money by channel: the channel credit is the (source, campaign) credit split by channel, and
"no cost data" survives every sum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.money import (
    NO_TOUCH_CHANNEL,
    AttributionModel,
    Money,
    Touch,
    channel_key,
    credit,
    touch_channel,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)

touches = st.lists(
    st.builds(
        lambda minutes, source, medium, campaign: Touch(
            T0 + timedelta(minutes=minutes), source, medium, campaign
        ),
        st.integers(0, 10_000),
        st.sampled_from(["google", "facebook", "(direct)", "newsletter"]),
        st.sampled_from(["cpc", "organic", "social", "email", "(none)", "referral"]),
        st.sampled_from(["", "brand", "spring"]),
    ),
    max_size=6,
    unique_by=lambda touch: touch.at,
)


@given(touches, st.sampled_from(list(AttributionModel)))
def test_the_channel_credit_splits_the_source_campaign_credit(
    found: list[Touch], model: AttributionModel
) -> None:
    by_channel = credit(found, model, touch_channel, no_touch=NO_TOUCH_CHANNEL)
    assert sum(share for _key, share in by_channel) == 1
    folded: dict[tuple[str, str], Fraction] = {}
    for (source, campaign, _channel), share in by_channel:
        folded[(source, campaign)] = folded.get((source, campaign), Fraction(0)) + share
    assert folded == dict(credit(found, model))


def test_paid_and_organic_google_are_two_channels() -> None:
    assert channel_key("google", "cpc") == ("google", "paid_search")
    assert channel_key("google", "organic") == ("google", "organic_search")


amounts = st.decimals(min_value=0, max_value=10_000, places=2)


@given(st.lists(st.tuples(amounts, amounts, st.booleans()), max_size=6))
def test_no_cost_data_is_never_zero_cost(items: list[tuple[Decimal, Decimal, bool]]) -> None:
    parts = [
        Money(cost if costed else Decimal(0), revenue, 0, costed) for cost, revenue, costed in items
    ]
    total = Money.total(parts)
    assert total.has_cost == any(costed for _c, _r, costed in items)
    if not total.has_cost:
        assert (total.known_cost, total.known_profit, total.romi) == (None, None, None)
    else:
        assert total.known_cost == sum((p.cost for p in parts), Decimal(0))
