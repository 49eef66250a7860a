"""Add telephony accounts, link calls to leads, index the recordings the jobs scan

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:52:24.083629
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telephony_accounts",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("account_ref", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_telephony_accounts_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_accounts")),
        sa.UniqueConstraint(
            "project_id", "provider", name=op.f("uq_telephony_accounts_project_id_provider")
        ),
    )
    with op.batch_alter_table("telephony_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_telephony_accounts_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            "uq_telephony_accounts_provider_ref", ["provider", "account_ref"], unique=True
        )

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(batch_op.f("ix_calls_lead_id"), ["lead_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_calls_lead_id_leads"),
            "leads",
            ["lead_id"],
            ["id"],
            ondelete="SET NULL",
            use_alter=True,
        )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recordings_due",
            ["next_attempt_at", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('pending', 'fetching')"),
            postgresql_where=sa.text("status IN ('pending', 'fetching')"),
        )
        batch_op.create_index(
            "ix_recordings_expiring",
            ["delete_after", "id"],
            unique=False,
            sqlite_where=sa.text("status != 'deleted'"),
            postgresql_where=sa.text("status != 'deleted'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_expiring")
        batch_op.drop_index("ix_recordings_due")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_calls_lead_id_leads"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_calls_lead_id"))
        batch_op.drop_column("lead_id")

    with op.batch_alter_table("telephony_accounts", schema=None) as batch_op:
        batch_op.drop_index("uq_telephony_accounts_provider_ref")
        batch_op.drop_index(batch_op.f("ix_telephony_accounts_project_id"))

    op.drop_table("telephony_accounts")
