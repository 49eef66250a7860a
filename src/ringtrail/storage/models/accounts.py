"""Tenancy and access: organisations, projects, users, their sessions, memberships, API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.domain.tracking_settings import number_allocation_of
from ringtrail.storage.encryption import EncryptedText
from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class Organization(IdMixin, CreatedMixin, Base):
    """A customer account (a business or an agency) that owns projects."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)


class Project(IdMixin, CreatedMixin, Base):
    """A tracked business or site: where numbers, visits, calls and money belong."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    organization_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    default_country: Mapped[str] = mapped_column(String(2), default="US")
    allowed_domains: Mapped[list[str]] = mapped_column(default=list)
    main_number: Mapped[str | None] = mapped_column(String(20))
    replace_numbers: Mapped[list[str]] = mapped_column(default=list)
    swap_selectors: Mapped[list[str]] = mapped_column(default=list)
    attribution_touch: Mapped[str] = mapped_column(String(10), default="last")
    grace_minutes: Mapped[int] = mapped_column(Integer, default=15)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=30)
    unique_call_window_days: Mapped[int] = mapped_column(Integer, default=30)
    # Retention in days, None: kept forever (jobs/retention.py deletes what is older).
    recording_retention_days: Mapped[int | None] = mapped_column(Integer, default=365)
    transcript_retention_days: Mapped[int | None] = mapped_column(Integer)
    call_retention_days: Mapped[int | None] = mapped_column(Integer)
    visit_retention_days: Mapped[int | None] = mapped_column(Integer)
    target_call_goal_percent: Mapped[int] = mapped_column(Integer, default=80)
    attribution_model: Mapped[str] = mapped_column(
        String(20), default="last_non_direct", server_default="last_non_direct"
    )
    webhook_secret: Mapped[str] = mapped_column(EncryptedText)  # signs generic webhooks
    # The secret before the last rotation, still accepted until `previous_webhook_secret_until`
    # so senders can switch without losing events (services/webhook_secrets.py).
    previous_webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_webhook_secret_until: Mapped[datetime | None] = mapped_column()
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    @property
    def number_allocation(self) -> str:
        """When a visitor takes a pool number, `visit` or `intent`, kept in `extra`."""
        return number_allocation_of(self.extra)

    @number_allocation.setter
    def number_allocation(self, value: str) -> None:
        self.extra = {**(self.extra or {}), "number_allocation": value}


class User(IdMixin, CreatedMixin, Base):
    """A person who signs in to the dashboard."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(5))
    last_login_at: Mapped[datetime | None] = mapped_column()


class UserSession(IdMixin, CreatedMixin, Base):
    """A dashboard sign-in; the cookie carries a random id, only its SHA-256 digest is stored.

    Deleting the row ends the session wherever the cookie went.
    """

    __tablename__ = "user_sessions"

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Membership(IdMixin, CreatedMixin, Base):
    """A user's role in one project."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))


class ApiKey(IdMixin, CreatedMixin, Base):
    """A bearer key for /api/v1; only its SHA-256 digest is stored.

    A key belongs to an organisation; with `project_id` set it reaches that project alone,
    without it every project of the organisation (and may create projects).
    """

    __tablename__ = "api_keys"

    organization_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    created_by_user_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
