"""Number insertion state: pools, tracking numbers, source rules and the lease history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class Pool(IdMixin, CreatedMixin, Base):
    """A set of numbers handed out one per website visitor for dynamic tracking."""

    __tablename__ = "pools"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    grace_minutes: Mapped[int | None] = mapped_column(Integer)
    cooldown_minutes: Mapped[int | None] = mapped_column(Integer)


class TrackingNumber(IdMixin, CreatedMixin, Base):
    """A phone number Ringtrail tracks: static (one source) or in a pool.

    A pool's default number (`is_pool_default`) is shown when every pool number is held, so
    the source is still right; at most one per pool. Offline-only static numbers (flyer,
    radio) take part in attribution but are never shown by the tracking script.
    """

    __tablename__ = "tracking_numbers"
    __table_args__ = (
        Index(
            "uq_tracking_numbers_pool_default",
            "pool_id",
            unique=True,
            sqlite_where=text("is_pool_default"),
            postgresql_where=text("is_pool_default"),
        ),
    )

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    pool_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("pools.id", ondelete="SET NULL"), index=True
    )
    is_pool_default: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str | None] = mapped_column(String(100))
    medium: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(200))
    offline_only: Mapped[bool] = mapped_column(Boolean, default=False)
    forward_to: Mapped[str | None] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class SourceRule(IdMixin, CreatedMixin, Base):
    """ "When a visit matches these conditions, label it so and show this pool or number."

    Rules are tried by ascending `priority`; the first match wins (docs/tracking.md).
    `conditions` is a list of {"field", "op", "value"} objects, all of which must hold.
    """

    __tablename__ = "source_rules"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    source: Mapped[str | None] = mapped_column(String(100))
    medium: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(200))
    pool_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("pools.id", ondelete="SET NULL"))
    static_number_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("tracking_numbers.id", ondelete="SET NULL")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class NumberLease(IdMixin, Base):
    """One hold of a pool number by one visitor: the history attribution reads.

    A live hold has `released_at` NULL; the partial unique index makes two live holds of one
    number impossible at the schema level. `snapshot` copies the session's attribution data.
    """

    __tablename__ = "number_leases"
    __table_args__ = (
        Index(
            "uq_number_leases_live_number",
            "number_id",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
        Index("ix_number_leases_number_window", "number_id", "leased_at"),
    )

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("pools.id", ondelete="CASCADE"))
    number_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("tracking_numbers.id", ondelete="CASCADE")
    )
    visitor_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("visitors.id", ondelete="SET NULL"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("visits.id", ondelete="SET NULL"), index=True
    )
    leased_at: Mapped[datetime] = mapped_column()
    last_heartbeat_at: Mapped[datetime] = mapped_column()
    hold_until: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
    cooldown_until: Mapped[datetime | None] = mapped_column()
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
