"""The target-call classifier's versions: each trained model, its measured figures, its state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class ScoringModel(IdMixin, CreatedMixin, Base):
    """One trained version of a project's target-call model (services/scoring.py).

    `status` is "trained" (measured, not labelling), "active" (labels calls whose confidence
    is at least `threshold`; at most one per project) or "retired" (replaced; kept for
    rollback). `metrics` is the evaluation on held-out labels (scoring/evaluation.py);
    `expected_accuracy` is its measured accuracy at `threshold`. `blob` is the fitted model.
    """

    __tablename__ = "scoring_models"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="trained")
    labels: Mapped[int] = mapped_column(Integer)
    targets: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    threshold: Mapped[float] = mapped_column(Float, default=0.9)
    expected_accuracy: Mapped[float | None] = mapped_column(Float)
    activated_at: Mapped[datetime | None] = mapped_column()
