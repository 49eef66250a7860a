"""The number allocator's own state: one slot per pool number, and overflow counts per hour."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, IdMixin, IdType


class PoolSlot(Base):
    """Where one pool number stands for the SQL lease backend.

    `held_until` is the end of the number's latest hold: in the future while a visitor holds
    it (then `lease_id` names the live lease), in the past once released, and 1970-01-01 for a
    number never held. The number is free again at `held_until` + the pool's cool-down, and
    free numbers are handed out by ascending (`held_until`, `number_id`): least recently
    released first. `number_leases` stays the history; this row is what leasing locks.
    """

    __tablename__ = "pool_slots"
    __table_args__ = (Index("ix_pool_slots_reuse_order", "pool_id", "held_until", "number_id"),)

    number_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("tracking_numbers.id", ondelete="CASCADE"), primary_key=True
    )
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("pools.id", ondelete="CASCADE"))
    held_until: Mapped[datetime] = mapped_column()
    lease_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("number_leases.id", ondelete="SET NULL")
    )


class PoolOverflow(IdMixin, Base):
    """How many visitors found a pool with no free number, per hour (they saw its default)."""

    __tablename__ = "pool_overflows"
    __table_args__ = (UniqueConstraint("pool_id", "hour_start"),)

    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("pools.id", ondelete="CASCADE"))
    hour_start: Mapped[datetime] = mapped_column()
    count: Mapped[int] = mapped_column(Integer, default=0)
