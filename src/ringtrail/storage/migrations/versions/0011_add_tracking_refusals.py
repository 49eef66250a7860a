"""Add the log of refused tracking visits (origin not allowed, bots, no rule, overflows)

`tracking_refusals` keeps one row per project, reason and detail (the origin seen, the bot
kind, the pool) with a count, when it was first and last seen, and one sample page and
User-Agent. The downgrade drops the table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tracking_refusals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sample_url", sa.String(length=1000), nullable=False),
        sa.Column("sample_user_agent", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_tracking_refusals_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_refusals")),
        sa.UniqueConstraint(
            "project_id",
            "reason",
            "detail",
            name=op.f("uq_tracking_refusals_project_id_reason_detail"),
        ),
    )
    op.create_index(
        "ix_tracking_refusals_project_id_last_seen_at",
        "tracking_refusals",
        ["project_id", "last_seen_at"],
    )
    op.create_index(
        op.f("ix_tracking_refusals_last_seen_at"), "tracking_refusals", ["last_seen_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tracking_refusals_last_seen_at"), table_name="tracking_refusals")
    op.drop_index("ix_tracking_refusals_project_id_last_seen_at", table_name="tracking_refusals")
    op.drop_table("tracking_refusals")
