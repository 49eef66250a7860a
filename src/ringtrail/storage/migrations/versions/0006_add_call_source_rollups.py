"""Add daily call rollups by dimension value and source (call_source_rollups)

An existing database keeps its rollups: the new rows are summed from call_rollups here, so
every built day has both, as the rollup job keeps them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The call measures as of this revision (second counts are 64-bit).
MEASURES = (
    "calls", "answered", "missed", "unique", "first_time", "repeat", "target", "non_target",
    "unique_target", "first_target", "talk_seconds", "wait_seconds", "waited",
)  # fmt: skip
WIDE = ("talk_seconds", "wait_seconds")


def upgrade() -> None:
    op.create_table(
        "call_source_rollups",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("campaign", sa.String(length=500), nullable=False),
        *(
            sa.Column(name, sa.BigInteger() if name in WIDE else sa.Integer(), nullable=False)
            for name in MEASURES
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_call_source_rollups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id",
            "dimension",
            "day",
            "value",
            "source",
            "campaign",
            name=op.f("pk_call_source_rollups"),
        ),
    )
    measures = ", ".join(f'"{name}"' for name in MEASURES)
    sums = ", ".join(f'SUM("{name}")' for name in MEASURES)
    campaign = "CASE WHEN dimension = 'total' THEN campaign ELSE '' END"
    # Built from the constants above only.
    statement = (
        "INSERT INTO call_source_rollups"  # noqa: S608
        f" (project_id, dimension, day, value, source, campaign, {measures})"
        f" SELECT project_id, dimension, day, value, source, {campaign}, {sums}"
        f" FROM call_rollups GROUP BY project_id, dimension, day, value, source, {campaign}"
    )
    op.execute(statement)


def downgrade() -> None:
    op.drop_table("call_source_rollups")
