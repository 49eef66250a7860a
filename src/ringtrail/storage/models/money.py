"""Money in: ad costs per day and campaign, and CRM deals with their revenue."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class AdCost(IdMixin, CreatedMixin, Base):
    """What was spent on one day for one source/campaign; re-import replaces the row."""

    __tablename__ = "ad_costs"
    __table_args__ = (UniqueConstraint("project_id", "day", "source", "campaign"),)

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100))
    medium: Mapped[str] = mapped_column(String(100), default="cpc")
    campaign: Mapped[str] = mapped_column(String(500), default="")
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    clicks: Mapped[int | None] = mapped_column(Integer)
    impressions: Mapped[int | None] = mapped_column(Integer)


class Deal(IdMixin, CreatedMixin, Base):
    """A CRM deal, linked to the call or lead that started it."""

    __tablename__ = "deals"
    __table_args__ = (UniqueConstraint("project_id", "external_id"),)

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("leads.id", ondelete="SET NULL"))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3))
    closed_at: Mapped[datetime | None] = mapped_column()
