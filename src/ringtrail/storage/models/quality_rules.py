"""Call quality rules as a project keeps them, and the tags people took off calls.

A rule's conditions, working hours and languages are kept as JSON in the form
`ringtrail.domain.quality_rules` reads and writes (`conditions_from`, `conditions_data`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType, utcnow


class QualityRule(IdMixin, CreatedMixin, Base):
    """One rule of a project: run in `position` order on ended calls and after transcripts.

    `mark` is "target", "non_target" or None (tags only). `last_applied_at` and
    `last_matched_at` say when the rule last ran on a call and last acted, so the settings
    page can say why a rule did nothing.
    """

    __tablename__ = "quality_rules"
    __table_args__ = (Index("ix_quality_rules_project_id_position", "project_id", "position"),)

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    working_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    languages: Mapped[list[str]] = mapped_column(default=list)
    add_tags: Mapped[list[str]] = mapped_column(default=list)
    mark: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_applied_at: Mapped[datetime | None] = mapped_column()
    last_matched_at: Mapped[datetime | None] = mapped_column()
    matched_calls: Mapped[int] = mapped_column(Integer, default=0)


class CallTagRemoval(Base):
    """A tag a person took off a call: rules and the model never put it back.

    Kept until a person puts the tag on the call again.
    """

    __tablename__ = "call_tag_removals"

    call_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    removed_by: Mapped[str] = mapped_column(String(20), default="user")
    removed_at: Mapped[datetime] = mapped_column(default=utcnow)
