"""The log of refused provider webhooks: which provider's request was refused, from where, why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, IdMixin, IdType


class WebhookRefusal(IdMixin, Base):
    """Requests of one provider refused for one reason from one address, counted together.

    `provider` is the telephony provider whose webhook URL was called (`binotel`, `zadarma`);
    `reason` is `sender_not_allowed` (the address is not one of the provider's servers) or
    `replayed_notification` (a signed notification sent again with other values); `address`
    is the sender's IP address as the webhook judged it; `detail` the last reason in words.
    One row per (project, provider, reason, address); the log caps the rows of a project
    (services.webhook_refusals).
    """

    __tablename__ = "webhook_refusals"
    __table_args__ = (
        UniqueConstraint("project_id", "provider", "reason", "address"),
        Index("ix_webhook_refusals_project_id_last_seen_at", "project_id", "last_seen_at"),
    )

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(300))
    count: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
