"""Add the audit log and per-project retention of visits, calls and transcripts

`audit_log` records who changed a setting, a role, a key or a provider account, and every
erasure of a caller's data. Projects gain `visit_retention_days`, `call_retention_days` and
`transcript_retention_days` (NULL: kept forever), and `recording_retention_days` may now be
NULL too. Existing projects keep everything they kept before.

A downgrade sets a NULL recording retention back to the old default of 365 days.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
RETENTIONS = ("transcript_retention_days", "call_retention_days", "visit_retention_days")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=True),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("subject_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_log_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_audit_log_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_project_id_id", "audit_log", ["project_id", "id"])
    op.create_index("ix_audit_log_organization_id_id", "audit_log", ["organization_id", "id"])
    op.create_index(op.f("ix_audit_log_subject_digest"), "audit_log", ["subject_digest"])
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for name in RETENTIONS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.alter_column("recording_retention_days", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute(
        "UPDATE projects SET recording_retention_days = 365 WHERE recording_retention_days IS NULL"
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.alter_column(
            "recording_retention_days", existing_type=sa.Integer(), nullable=False
        )
        for name in reversed(RETENTIONS):
            batch_op.drop_column(name)
    op.drop_index(op.f("ix_audit_log_subject_digest"), table_name="audit_log")
    op.drop_index("ix_audit_log_organization_id_id", table_name="audit_log")
    op.drop_index("ix_audit_log_project_id_id", table_name="audit_log")
    op.drop_table("audit_log")
