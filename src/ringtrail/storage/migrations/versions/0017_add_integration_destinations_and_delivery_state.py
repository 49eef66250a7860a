"""Add integration destinations and the state a durable delivery needs

`integration_destinations` holds the places a project sends conversions and leads to (its
settings, its secrets encrypted, its conversion rule). `outbound_deliveries` gains the
destination row it belongs to, its order among one subject's events, the destination's own
dedupe key, the reason in words and as a code, the HTTP status of the last answer, and a
claim so that a worker killed mid-send leaves the row to be taken again. The downgrade drops
the columns and the table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "integration_destinations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_integration_destinations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_destinations")),
    )
    with op.batch_alter_table("integration_destinations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_destinations_project_id"), ["project_id"], unique=False
        )
    with op.batch_alter_table("outbound_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination_id", ID, nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reason_code", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("status_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("conversion", JSON, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbound_deliveries_destination_id"), ["destination_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbound_deliveries_destination_id_integration_destinations"),
            "integration_destinations",
            ["destination_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("outbound_deliveries", schema=None) as batch_op:
        batch_op.alter_column("sequence", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("outbound_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbound_deliveries_destination_id_integration_destinations"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_outbound_deliveries_destination_id"))
        for column in (
            "conversion",
            "claimed_by",
            "last_attempt_at",
            "claimed_until",
            "status_code",
            "reason",
            "reason_code",
            "dedupe_key",
            "sequence",
            "destination_id",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("integration_destinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_destinations_project_id"))
    op.drop_table("integration_destinations")
