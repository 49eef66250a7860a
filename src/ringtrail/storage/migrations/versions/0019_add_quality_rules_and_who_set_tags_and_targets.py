"""Add quality rules, who set each call tag, and target calls by judge in the call rollups

`quality_rules` holds a project's ordered call quality rules; `call_tag_removals` the tags a
person took off a call, which rules never put back. `call_tags` gains `set_by` ("user" for
every existing tag), `set_at` and `set_detail`. The three call rollup tables gain
`target_by_user`, `target_by_rule` and `target_by_model`; every built day is marked stale
and the month rollups dropped, so the rollup job rebuilds them with the new counts (reports
read raw calls for stale days meanwhile). The downgrade drops the tables and columns.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ROLLUP_TABLES = ("call_rollups", "call_source_rollups", "call_month_rollups")
JUDGE_COLUMNS = ("target_by_user", "target_by_rule", "target_by_model")


def upgrade() -> None:
    op.create_table(
        "quality_rules",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("conditions", JSON, nullable=False),
        sa.Column("working_hours", JSON, nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("add_tags", JSON, nullable=False),
        sa.Column("mark", sa.String(length=20), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matched_calls", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_quality_rules_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rules")),
    )
    with op.batch_alter_table("quality_rules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_rules_project_id_position", ["project_id", "position"], unique=False
        )
    op.create_table(
        "call_tag_removals",
        sa.Column("call_id", ID, nullable=False),
        sa.Column("tag_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("removed_by", sa.String(length=20), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_tag_removals_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["tags.id"],
            name=op.f("fk_call_tag_removals_tag_id_tags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_call_tag_removals_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("call_id", "tag_id", name=op.f("pk_call_tag_removals")),
    )
    with op.batch_alter_table("call_tag_removals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_tag_removals_tag_id"), ["tag_id"], unique=False)
    with op.batch_alter_table("call_tags", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("set_by", sa.String(length=20), nullable=False, server_default="user")
        )
        batch_op.add_column(sa.Column("set_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("set_detail", sa.String(length=100), nullable=True))
    for table in ROLLUP_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in JUDGE_COLUMNS:
                batch_op.add_column(
                    sa.Column(column, sa.Integer(), nullable=False, server_default="0")
                )
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in JUDGE_COLUMNS:
                batch_op.alter_column(column, server_default=None)
    # Built days hold no counts by judge yet: stale until the rollup job rebuilds them.
    op.execute(
        "INSERT INTO rollup_dirty (project_id, day, generation)"
        " SELECT d.project_id, d.day, 1 FROM rollup_days d WHERE NOT EXISTS"
        " (SELECT 1 FROM rollup_dirty x WHERE x.project_id = d.project_id AND x.day = d.day)"
    )
    op.execute("DELETE FROM call_month_rollups")
    op.execute("DELETE FROM rollup_months")


def downgrade() -> None:
    for table in ROLLUP_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in JUDGE_COLUMNS:
                batch_op.drop_column(column)
    with op.batch_alter_table("call_tags", schema=None) as batch_op:
        batch_op.drop_column("set_detail")
        batch_op.drop_column("set_at")
        batch_op.drop_column("set_by")
    with op.batch_alter_table("call_tag_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_tag_removals_tag_id"))
    op.drop_table("call_tag_removals")
    with op.batch_alter_table("quality_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_rules_project_id_position")
    op.drop_table("quality_rules")
