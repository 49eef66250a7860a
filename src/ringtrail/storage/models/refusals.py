"""The log of refused tracking visits: why a page got no tracking number, per project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, IdMixin, IdType


class TrackingRefusal(IdMixin, Base):
    """Visits refused for one reason with one detail, counted together.

    `reason` is the tracking API's reason code; `detail` is the origin seen for
    `origin_not_allowed`, the bot kind for `bot`, the pool's id for `pool_exhausted`, else "".
    One row per (project, reason, detail), so a flood of the same refusal adds to `count`;
    the refusal log caps the rows of a project (services.refusals).
    """

    __tablename__ = "tracking_refusals"
    __table_args__ = (
        UniqueConstraint("project_id", "reason", "detail"),
        Index("ix_tracking_refusals_project_id_last_seen_at", "project_id", "last_seen_at"),
    )

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(300))
    count: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    sample_url: Mapped[str] = mapped_column(String(1000))
    sample_user_agent: Mapped[str] = mapped_column(String(500))
