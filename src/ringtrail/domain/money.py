"""Money: attribution models that share a deal over its touches, and cost/revenue sums.

A deal's revenue is credited to the (source, campaign) keys of the visits (touches) that led
to it. The project's model decides the shares; they always add up to exactly 1 (fractions,
so no cent is lost or made up by rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypeVar, overload

from ringtrail.domain.sources import channel_for

DIRECT_SOURCE = "(direct)"
NO_MEDIUM = "(none)"
NO_TOUCH_KEY = ("(none)", "")
"""Where a deal without any touch is credited."""
CENT = Decimal("0.01")

CreditKey = tuple[str, str]
"""(source, campaign)."""
K = TypeVar("K", bound=tuple[str, ...])
"""A credit key: (source, campaign) by default."""


class AttributionModel(StrEnum):
    """How a deal's revenue is shared over the touches before it."""

    LAST_NON_DIRECT = "last_non_direct"
    """All to the last touch that is not direct; to the last touch when all are direct."""
    FIRST = "first"
    """All to the first touch."""
    LAST = "last"
    """All to the last touch, direct or not."""
    LINEAR = "linear"
    """Equal shares to every touch."""


DEFAULT_MODEL = AttributionModel.LAST_NON_DIRECT


@dataclass(frozen=True)
class Touch:
    """One visit (or a static-number call) on the way to a deal."""

    at: datetime
    source: str
    medium: str
    campaign: str

    @property
    def key(self) -> CreditKey:
        """The (source, campaign) it credits."""
        return (self.source, self.campaign)

    @property
    def is_direct(self) -> bool:
        """Whether the touch is a direct visit (typed address, bookmark, unknown)."""
        return self.source == DIRECT_SOURCE or self.medium == NO_MEDIUM


def _own_key(touch: Touch) -> CreditKey:
    return touch.key


@overload
def credit(
    touches: Sequence[Touch], model: AttributionModel
) -> list[tuple[CreditKey, Fraction]]: ...
@overload
def credit(
    touches: Sequence[Touch], model: AttributionModel, key: Callable[[Touch], K], *, no_touch: K
) -> list[tuple[K, Fraction]]: ...
def credit(
    touches: Sequence[Touch],
    model: AttributionModel,
    key: Callable[[Touch], Any] = _own_key,
    *,
    no_touch: Any = NO_TOUCH_KEY,
) -> list[tuple[Any, Fraction]]:
    """The keys `touches` credit under `model`, with shares adding up to 1.

    A touch's key is its (source, campaign) unless `key` says otherwise (`channel_key`).
    Touches are put in time order first, so the caller's order never matters. No touch at
    all credits `no_touch` in full.
    """
    if not touches:
        return [(no_touch, Fraction(1))]
    ordered = sorted(touches, key=lambda touch: touch.at)
    if model is AttributionModel.FIRST:
        return [(key(ordered[0]), Fraction(1))]
    if model is AttributionModel.LAST:
        return [(key(ordered[-1]), Fraction(1))]
    if model is AttributionModel.LINEAR:
        shares: dict[Any, Fraction] = {}
        each = Fraction(1, len(ordered))
        for touch in ordered:
            shares[key(touch)] = shares.get(key(touch), Fraction(0)) + each
        return sorted(shares.items())
    chosen = next((touch for touch in reversed(ordered) if not touch.is_direct), ordered[-1])
    return [(key(chosen), Fraction(1))]


def channel_key(source: str, medium: str) -> CreditKey:
    """(source, channel): where money of one source is kept apart by how it was bought.

    The channel is GA4's default grouping (domain/sources.py `channel_for`), so Google Ads
    clicks (google / cpc: paid_search) and organic Google visits (google / organic:
    organic_search) are two rows, and ad costs only meet the revenue of their own channel.
    """
    return (source, channel_for(source, medium))


def touch_channel(touch: Touch) -> tuple[str, str, str]:
    """(source, campaign, channel) of a touch: its credit key with its channel (`channel_key`)."""
    return (touch.source, touch.campaign, channel_for(touch.source, touch.medium))


NO_TOUCH_CHANNEL = ("(none)", "", "direct")
"""Where a deal without any touch is credited in the by-channel figures (`touch_channel`)."""


def cost_per(cost: Decimal | None, count: float) -> Decimal | None:
    """`cost` divided by `count`, in cents; None without cost data or nothing to divide by."""
    if cost is None or not count:
        return None
    return (cost / Decimal(str(count))).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    """Cost, revenue and customers (fractional under the linear model) of one group.

    `costed` says cost data exists for the group (an ad cost row, even of 0.00); left None,
    any non-zero cost counts as data. Without cost data the cost is unknown, not zero, and
    every figure made from it is None (`known_cost`, `known_profit`, `romi`).
    """

    cost: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    customers: float = 0
    costed: bool | None = None

    def __post_init__(self) -> None:
        if self.costed is None:
            object.__setattr__(self, "costed", bool(self.cost))

    def __add__(self, other: Money) -> Money:
        return Money(
            self.cost + other.cost,
            self.revenue + other.revenue,
            self.customers + other.customers,
            self.has_cost or other.has_cost,
        )

    @property
    def has_cost(self) -> bool:
        """Whether cost data exists for the group (see `costed`)."""
        return bool(self.costed)

    @property
    def known_cost(self) -> Decimal | None:
        """The cost, or None when there is no cost data for the group."""
        return self.cost if self.has_cost else None

    @classmethod
    def total(cls, items: Sequence[Money]) -> Money:
        """Every item added up."""
        result = cls()
        for item in items:
            result = result + item
        return result

    @property
    def profit(self) -> Decimal:
        """Revenue minus cost (the revenue itself when there is no cost data)."""
        return self.revenue - self.cost

    @property
    def known_profit(self) -> Decimal | None:
        """Revenue minus cost, or None when there is no cost data for the group."""
        return self.profit if self.has_cost else None

    @property
    def romi(self) -> float | None:
        """Return on marketing investment, (revenue - cost) / cost; None without cost."""
        if not self.has_cost or not self.cost:
            return None
        return float(self.profit / self.cost)
