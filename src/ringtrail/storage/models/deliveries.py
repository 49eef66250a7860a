"""Money out and data out: every conversion or lead sent to an ad platform, analytics or CRM."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.encryption import EncryptedText
from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class IntegrationDestination(IdMixin, CreatedMixin, Base):
    """A place a project sends conversions or leads to (a GA4 property, a Meta pixel, a CRM).

    `config` holds the destination's settings in the clear; `secrets` is a JSON object of its
    secret fields (API secrets, tokens, signing keys), encrypted at rest. `rules` is the
    conversion rule: which calls count, the conversion's name and value, consent handling.
    """

    __tablename__ = "integration_destinations"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[str | None] = mapped_column(EncryptedText)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime | None] = mapped_column()


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
    # The destination's id as text (the unique key predates destinations as rows).
    destination: Mapped[str] = mapped_column(String(40))
    destination_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("integration_destinations.id", ondelete="CASCADE"), index=True
    )
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(IdType)
    event_name: Mapped[str] = mapped_column(String(100))
    # Order among one subject's events for one destination: a later one waits for the earlier.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # pending, sending, accepted, rejected, skipped, dead
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    # The destination's own idempotency key (transaction_id, event_id, order_id...).
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    # Why it was skipped, rejected or is waiting, for totals (`reason_code`) and in words.
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    # The worker pass holding the claim: only it may write the outcome (a fencing token).
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    # What the conversion rule made of the facts when it was sent: name, value, currency.
    conversion: Mapped[dict[str, Any] | None] = mapped_column()
