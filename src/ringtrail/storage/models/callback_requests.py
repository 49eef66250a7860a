"""Callback requests from the widget: when and whom to ring back, and how it went.

One row per accepted request, linked to its `callback` lead. Each attempt to ring back is an
outbound row in `calls` (direction `outbound`, the same `lead_id`); the row here keeps the
state of the whole request (waiting, calling, connected, unreached, done), when it is due,
the claim of the worker placing the call, and the figures reports read: when the customer
was connected, seconds from the request to that moment, talk time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class CallbackRequest(IdMixin, CreatedMixin, Base):
    """A visitor's request to be called back (services/callback_requests.py)."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        # The worker's scan: requests due to be rung, oldest due first.
        Index("ix_callback_requests_status_due", "status", "due_at"),
        # The dashboard's list and the reports: a project's requests by time.
        Index("ix_callback_requests_project_requested", "project_id", "requested_at"),
        # The daily cap of calls to one number.
        Index("ix_callback_requests_project_phone", "project_id", "phone_e164", "requested_at"),
    )

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("leads.id", ondelete="SET NULL"), unique=True
    )
    phone_e164: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="en")
    requested_at: Mapped[datetime] = mapped_column()
    # waiting (due at `due_at`), calling (an attempt is under way), connected,
    # unreached (every attempt failed), done (a person settled it).
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    due_at: Mapped[datetime | None] = mapped_column()
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_outcome: Mapped[str | None] = mapped_column(String(30))
    last_error: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("calls.id", ondelete="SET NULL"))
    connected_at: Mapped[datetime | None] = mapped_column()
    seconds_to_connect: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    handled_at: Mapped[datetime | None] = mapped_column()
    handled_by: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    page_url: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
