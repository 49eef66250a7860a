"""Add pool slots, hourly overflow counts and the project's numbers and selectors to swap

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:02:54.985968
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pool_overflows",
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["pools.id"],
            name=op.f("fk_pool_overflows_pool_id_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_overflows")),
        sa.UniqueConstraint(
            "pool_id", "hour_start", name=op.f("uq_pool_overflows_pool_id_hour_start")
        ),
    )
    op.create_table(
        "pool_slots",
        sa.Column("number_id", ID, nullable=False),
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["lease_id"],
            ["number_leases.id"],
            name=op.f("fk_pool_slots_lease_id_number_leases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["tracking_numbers.id"],
            name=op.f("fk_pool_slots_number_id_tracking_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_pool_slots_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("number_id", name=op.f("pk_pool_slots")),
    )
    with op.batch_alter_table("pool_slots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pool_slots_reuse_order", ["pool_id", "held_until", "number_id"], unique=False
        )

    # Existing projects start with empty lists; the server default only fills those rows.
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("replace_numbers", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("swap_selectors", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.alter_column("replace_numbers", server_default=None)
        batch_op.alter_column("swap_selectors", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("swap_selectors")
        batch_op.drop_column("replace_numbers")

    with op.batch_alter_table("pool_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_pool_slots_reuse_order")

    op.drop_table("pool_slots")
    op.drop_table("pool_overflows")
