"""Calls and what hangs off them: provider events, recordings, leads, tags, scores, comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType, utcnow


class Call(IdMixin, CreatedMixin, Base):
    """One phone call to a tracking number, normalised from any provider.

    Attribution is copied onto the call (`source` ... `snapshot`) so reports never re-derive
    it, and `candidates` keeps the ranked sessions with `confidence` for the audit trail.
    """

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("provider", "provider_call_id"),
        Index("ix_calls_project_started", "project_id", "started_at"),
        Index("ix_calls_project_caller", "project_id", "caller_e164"),
        # The longest calls of a period (report 5): read backwards, the first rows in range.
        Index("ix_calls_project_talk", "project_id", "talk_seconds", "started_at", "id"),
        # Calls still waiting for a callback: few, so a partial index (with the source, the
        # filter reports use most, so a filtered count needs no table rows).
        Index(
            "ix_calls_project_callback",
            "project_id",
            "started_at",
            "source",
            postgresql_where=text("needs_callback"),
            sqlite_where=text("needs_callback"),
        ),
    )

    project_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE")
    )
    tracking_number_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("tracking_numbers.id", ondelete="SET NULL"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    provider_call_id: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    caller_e164: Mapped[str | None] = mapped_column(String(20))
    dialled_e164: Mapped[str] = mapped_column(String(20))
    forwarded_to: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    is_first_time: Mapped[bool | None] = mapped_column(Boolean)
    is_unique: Mapped[bool | None] = mapped_column(Boolean)
    is_target: Mapped[bool | None] = mapped_column(Boolean)
    target_set_by: Mapped[str | None] = mapped_column(String(20))
    needs_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    # How a call that needed a callback was settled (domain/callbacks.py): when, how
    # ("called_back" by a person or "answered_call"), by whom and by which later call.
    callback_at: Mapped[datetime | None] = mapped_column()
    callback_resolution: Mapped[str | None] = mapped_column(String(20))
    callback_user_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    callback_call_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="SET NULL")
    )
    visitor_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("visitors.id", ondelete="SET NULL"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("visits.id", ondelete="SET NULL")
    )
    first_call_id: Mapped[int | None] = mapped_column(IdType)
    lead_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("leads.id", ondelete="SET NULL", use_alter=True), index=True
    )
    attribution_kind: Mapped[str] = mapped_column(String(20), default="unattributed")
    attribution_reason: Mapped[str] = mapped_column(String(500), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    source: Mapped[str | None] = mapped_column(String(100))
    medium: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(500))
    keyword: Mapped[str | None] = mapped_column(String(500))
    landing_page: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    caller_country: Mapped[str | None] = mapped_column(String(2))
    caller_region: Mapped[str | None] = mapped_column(String(200))
    deal_value: Mapped[float | None] = mapped_column(Float)


class CallEvent(IdMixin, Base):
    """A provider event as received; `dedupe_key` makes redelivery harmless."""

    __tablename__ = "call_events"

    project_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Recording(IdMixin, CreatedMixin, Base):
    """The audio of a call: where the provider has it and where we keep it."""

    __tablename__ = "recordings"
    __table_args__ = (
        # What the fetch job and the retention job scan, kept small by their conditions.
        Index(
            "ix_recordings_due",
            "next_attempt_at",
            "id",
            sqlite_where=text("status IN ('pending', 'fetching')"),
            postgresql_where=text("status IN ('pending', 'fetching')"),
        ),
        Index(
            "ix_recordings_expiring",
            "delete_after",
            "id",
            sqlite_where=text("status != 'deleted'"),
            postgresql_where=text("status != 'deleted'"),
        ),
    )

    call_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    provider_url: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None] = mapped_column()
    delete_after: Mapped[datetime | None] = mapped_column()
    transcript: Mapped[str | None] = mapped_column(Text)


class Lead(IdMixin, CreatedMixin, Base):
    """A contact from a prospect: a call, a form or a callback request."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_project_created", "project_id", "created_at"),
        # A repeated form post or callback request names the same key: one lead (services/leads.py).
        Index("ix_leads_project_dedupe", "project_id", "dedupe_key", unique=True),
        # Leads of one phone within a window: duplicates and the person a lead joins.
        Index("ix_leads_project_phone", "project_id", "phone_e164", "created_at"),
    )

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    call_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    visitor_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("visitors.id", ondelete="SET NULL")
    )
    visit_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("visits.id", ondelete="SET NULL")
    )
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    medium: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="new")
    is_target: Mapped[bool | None] = mapped_column(Boolean)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The key a form post or callback request was deduplicated by (None for calls).
    dedupe_key: Mapped[str | None] = mapped_column(String(100))
    # The first lead of the person this lead belongs to (a form and a call from one phone
    # within the project's unique-call window); None: the lead is its own person.
    person_id: Mapped[int | None] = mapped_column(IdType)


class Tag(IdMixin, CreatedMixin, Base):
    """A project's label for calls (e.g. "price question", "spam")."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    color: Mapped[str] = mapped_column(String(7), default="#888888")


class CallTag(Base):
    """A tag on a call, with who put it there ("user", "rule" or "model") and when."""

    __tablename__ = "call_tags"

    call_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    set_by: Mapped[str] = mapped_column(String(20), default="user", server_default="user")
    set_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # The rule or model version that set it ("rule:3 Spam"); None for a person.
    set_detail: Mapped[str | None] = mapped_column(String(100))


class CallScore(IdMixin, CreatedMixin, Base):
    """A judgement on a call: by a person (sales) or a model, kept as history."""

    __tablename__ = "call_scores"

    call_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    scored_by: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(100))


class CallComment(IdMixin, CreatedMixin, Base):
    """A free-text note on a call."""

    __tablename__ = "call_comments"

    call_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
