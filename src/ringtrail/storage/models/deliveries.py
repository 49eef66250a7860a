"""Money out and data out: every conversion or lead sent to an ad platform, analytics or CRM."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class OutboundDelivery(IdMixin, CreatedMixin, Base):
    """One message to one destination, with its state: the per-conversion delivery log.

    The unique key makes a conversion go out once per destination however often it is queued.
    """

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        UniqueConstraint("destination", "subject_kind", "subject_id", "event_name"),
        Index("ix_outbound_deliveries_due", "status", "next_attempt_at"),
    )

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    destination: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(IdType)
    event_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
