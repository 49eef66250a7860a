"""Website visitors and their visits (sessions): source, click ids, device, geo, analytics ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, IdMixin, IdType


class Visitor(IdMixin, Base):
    """A browser, known by the first-party id the tracking script keeps in a cookie."""

    __tablename__ = "visitors"
    __table_args__ = (UniqueConstraint("project_id", "public_id"),)

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    first_visit_id: Mapped[int | None] = mapped_column(IdType)


class Visit(IdMixin, Base):
    """One visit (session) of a visitor: where it came from and what it carried.

    `source_trace` is the short "why this source" record the dashboard shows.
    """

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_project_started", "project_id", "started_at"),)

    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("visitors.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    landing_url: Mapped[str] = mapped_column(Text, default="")
    landing_path: Mapped[str] = mapped_column(String(2000), default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(500))
    utm_term: Mapped[str | None] = mapped_column(String(500))
    utm_content: Mapped[str | None] = mapped_column(String(500))
    gclid: Mapped[str | None] = mapped_column(String(200))
    gbraid: Mapped[str | None] = mapped_column(String(200))
    wbraid: Mapped[str | None] = mapped_column(String(200))
    yclid: Mapped[str | None] = mapped_column(String(200))
    fbclid: Mapped[str | None] = mapped_column(String(500))
    msclkid: Mapped[str | None] = mapped_column(String(200))
    ttclid: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100), default="(direct)")
    medium: Mapped[str] = mapped_column(String(100), default="(none)")
    campaign: Mapped[str | None] = mapped_column(String(500))
    keyword: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(40), default="direct")
    source_rule_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("source_rules.id", ondelete="SET NULL")
    )
    source_trace: Mapped[list[str]] = mapped_column(default=list)
    ga_client_id: Mapped[str | None] = mapped_column(String(100))
    ga_session_id: Mapped[str | None] = mapped_column(String(100))
    ym_uid: Mapped[str | None] = mapped_column(String(100))
    fbp: Mapped[str | None] = mapped_column(String(200))
    fbc: Mapped[str | None] = mapped_column(String(500))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(Text, default="")
    device_type: Mapped[str | None] = mapped_column(String(20))
    browser: Mapped[str | None] = mapped_column(String(60))
    os: Mapped[str | None] = mapped_column(String(60))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    geo_country: Mapped[str | None] = mapped_column(String(2))
    geo_region: Mapped[str | None] = mapped_column(String(100))
    geo_city: Mapped[str | None] = mapped_column(String(100))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
