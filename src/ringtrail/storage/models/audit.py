"""The audit log: who changed which setting, role or key, and which caller's data was erased."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, IdMixin, IdType, utcnow


class AuditEntry(IdMixin, Base):
    """One change, as its author made it; never updated.

    `actor_kind` is "user", "api_key", "cli" or "system" with `actor_id` the user's or key's
    id (kept as a plain number, so the entry outlives the user or key). `changes` holds the
    changed field names with old and new values, never a secret's value; an erasure holds
    counts and `subject_digest`, a salted hash of the number, never the number itself.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_project_id_id", "project_id", "id"),
        Index("ix_audit_log_organization_id_id", "organization_id", "id"),
    )

    organization_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    project_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(IdType)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subject_digest: Mapped[str | None] = mapped_column(String(64), index=True)
