"""Add monthly call rollups, visit rollups without the landing page, won-deal money rollups,
and call indexes for the longest calls and the callback list

An existing database keeps its rollups: visit_source_rollups is filled from visit_rollups,
and every built call/lead day is marked stale so the rollup job builds its money rows (reports
read those days raw until then); monthly rollups are built by the job for past months.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:23:08.275055
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_month_rollups",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("campaign", sa.String(length=500), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("unique", sa.Integer(), nullable=False),
        sa.Column("first_time", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("non_target", sa.Integer(), nullable=False),
        sa.Column("unique_target", sa.Integer(), nullable=False),
        sa.Column("first_target", sa.Integer(), nullable=False),
        sa.Column("talk_seconds", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("waited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_call_month_rollups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id",
            "dimension",
            "month",
            "value",
            "source",
            "campaign",
            name=op.f("pk_call_month_rollups"),
        ),
    )
    op.create_table(
        "rollup_months",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_rollup_months_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "month", name=op.f("pk_rollup_months")),
    )
    op.create_table(
        "money_rollups",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("campaign", sa.String(length=500), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("customers", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_money_rollups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "model", "day", "source", "campaign", name=op.f("pk_money_rollups")
        ),
    )
    op.create_table(
        "visit_source_rollups",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("medium", sa.String(length=100), nullable=False),
        sa.Column("campaign", sa.String(length=500), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_visit_source_rollups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id",
            "day",
            "source",
            "medium",
            "campaign",
            name=op.f("pk_visit_source_rollups"),
        ),
    )
    op.create_index(
        "ix_calls_project_talk", "calls", ["project_id", "talk_seconds", "started_at", "id"]
    )
    op.create_index(
        "ix_calls_project_callback",
        "calls",
        ["project_id", "started_at", "source"],
        postgresql_where=sa.text("needs_callback"),
        sqlite_where=sa.text("needs_callback"),
    )
    op.execute(
        "INSERT INTO visit_source_rollups (project_id, day, source, medium, campaign, visits)"
        " SELECT project_id, day, source, medium, campaign, SUM(visits) FROM visit_rollups"
        " GROUP BY project_id, day, source, medium, campaign"
    )
    op.execute(
        "INSERT INTO rollup_dirty (project_id, day, generation)"
        " SELECT project_id, day, 1 FROM rollup_days"
        " WHERE NOT EXISTS (SELECT 1 FROM rollup_dirty AS d"
        " WHERE d.project_id = rollup_days.project_id AND d.day = rollup_days.day)"
    )


def downgrade() -> None:
    op.drop_table("rollup_months")
    op.drop_table("call_month_rollups")
    op.drop_index("ix_calls_project_callback", table_name="calls")
    op.drop_index("ix_calls_project_talk", table_name="calls")
    op.drop_table("visit_source_rollups")
    op.drop_table("money_rollups")
