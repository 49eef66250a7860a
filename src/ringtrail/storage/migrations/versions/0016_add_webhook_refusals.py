"""Add the log of refused provider webhooks (sender address not allowed, replayed notification)

`webhook_refusals` keeps one row per project, provider, reason and sender address with a
count, when it was first and last seen, and the last reason in words, so the dashboard's
refusals page can show the 403s a provider's servers got. The downgrade drops the table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-21 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_refusals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_webhook_refusals_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_refusals")),
        sa.UniqueConstraint(
            "project_id",
            "provider",
            "reason",
            "address",
            name=op.f("uq_webhook_refusals_project_id_provider_reason_address"),
        ),
    )
    op.create_index(
        "ix_webhook_refusals_project_id_last_seen_at",
        "webhook_refusals",
        ["project_id", "last_seen_at"],
    )
    op.create_index(op.f("ix_webhook_refusals_last_seen_at"), "webhook_refusals", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_refusals_last_seen_at"), table_name="webhook_refusals")
    op.drop_index("ix_webhook_refusals_project_id_last_seen_at", table_name="webhook_refusals")
    op.drop_table("webhook_refusals")
