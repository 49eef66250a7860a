"""What was said on a call: one transcript per call, made here or imported from a provider.

A row is also the transcription job's queue entry: `status` (pending, running, done, failed),
`attempts`, `next_attempt_at` and `claimed_until` work like the recording fetch queue, and
`progress` (0..1) and `error` (in words) are what the call page shows meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class CallTranscript(IdMixin, CreatedMixin, Base):
    """A call's transcript and its place in the transcription queue.

    `segments` is a list of `{"speaker", "start", "end", "text"}` in time order; `text` joins
    their text for search. `source` is `local` (this server's engine) or `provider` (imported).
    """

    __tablename__ = "call_transcripts"
    __table_args__ = (Index("ix_call_transcripts_due", "status", "next_attempt_at"),)

    call_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("calls.id", ondelete="CASCADE"), unique=True
    )
    recording_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("recordings.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))
    segments: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20), default="local")
    updated_at: Mapped[datetime | None] = mapped_column()
