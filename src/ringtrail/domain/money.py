"""Money: attribution models that share a deal over its touches, and cost/revenue sums.

A deal's revenue is credited to the (source, campaign) keys of the visits (touches) that led
to it. The project's model decides the shares; they always add up to exactly 1 (fractions,
so no cent is lost or made up by rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

DIRECT_SOURCE = "(direct)"
NO_MEDIUM = "(none)"
NO_TOUCH_KEY = ("(none)", "")
"""Where a deal without any touch is credited."""
CENT = Decimal("0.01")

CreditKey = tuple[str, str]
"""(source, campaign)."""


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


def credit(touches: Sequence[Touch], model: AttributionModel) -> list[tuple[CreditKey, Fraction]]:
    """The (source, campaign) keys `touches` credit under `model`, with shares adding up to 1.

    Touches are put in time order first, so the caller's order never matters. No touch at
    all credits `NO_TOUCH_KEY` in full.
    """
    if not touches:
        return [(NO_TOUCH_KEY, Fraction(1))]
    ordered = sorted(touches, key=lambda touch: touch.at)
    if model is AttributionModel.FIRST:
        return [(ordered[0].key, Fraction(1))]
    if model is AttributionModel.LAST:
        return [(ordered[-1].key, Fraction(1))]
    if model is AttributionModel.LINEAR:
        shares: dict[CreditKey, Fraction] = {}
        each = Fraction(1, len(ordered))
        for touch in ordered:
            shares[touch.key] = shares.get(touch.key, Fraction(0)) + each
        return sorted(shares.items())
    chosen = next((touch for touch in reversed(ordered) if not touch.is_direct), ordered[-1])
    return [(chosen.key, Fraction(1))]


def cost_per(cost: Decimal, count: float) -> Decimal | None:
    """`cost` divided by `count`, in cents; None when there is nothing to divide by."""
    if not count:
        return None
    return (cost / Decimal(str(count))).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    """Cost, revenue and customers (fractional under the linear model) of one group."""

    cost: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    customers: float = 0

    def __add__(self, other: Money) -> Money:
        return Money(
            self.cost + other.cost, self.revenue + other.revenue, self.customers + other.customers
        )

    @classmethod
    def total(cls, items: Sequence[Money]) -> Money:
        """Every item added up."""
        result = cls()
        for item in items:
            result = result + item
        return result

    @property
    def profit(self) -> Decimal:
        """Revenue minus cost."""
        return self.revenue - self.cost

    @property
    def romi(self) -> float | None:
        """Return on marketing investment, (revenue - cost) / cost; None without cost."""
        if not self.cost:
            return None
        return float(self.profit / self.cost)
