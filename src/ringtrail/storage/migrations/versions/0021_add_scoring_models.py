"""Add scoring models: the versions of each project's target-call classifier

`scoring_models` keeps every trained version: its state (trained, active, retired), the
labels it learned from, its held-out figures, the owner's confidence threshold with the
accuracy measured at it, and the fitted model itself. The downgrade drops the table.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "scoring_models",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("targets", sa.Integer(), nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("expected_accuracy", sa.Float(), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_scoring_models_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_models")),
        sa.UniqueConstraint(
            "project_id", "version", name=op.f("uq_scoring_models_project_id_version")
        ),
    )
    with op.batch_alter_table("scoring_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_models_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scoring_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_models_project_id"))
    op.drop_table("scoring_models")
