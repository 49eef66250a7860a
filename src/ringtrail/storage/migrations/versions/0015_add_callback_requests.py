"""Add callback requests: the widget's requests to be called back and how they went

`callback_requests` keeps one row per accepted request: its `callback` lead, the number,
the language the business hears, when it was asked for and when it is due (the next
opening of the working hours when asked outside them), the worker's claim while an attempt
is placed, the attempts made and the last outcome, and the figures reports read
(`connected_at`, `seconds_to_connect`, `talk_seconds`). Each attempt itself is an outbound
row of `calls` linked to the same lead, so no column of `calls` changes. The downgrade
drops the table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-21 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=True),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=30), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds_to_connect", sa.Integer(), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", ID, nullable=True),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_callback_requests_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_callback_requests_lead_id_leads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_callback_requests_call_id_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by"],
            ["users.id"],
            name=op.f("fk_callback_requests_handled_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_callback_requests_lead_id")),
    )
    op.create_index("ix_callback_requests_status_due", "callback_requests", ["status", "due_at"])
    op.create_index(
        "ix_callback_requests_project_requested",
        "callback_requests",
        ["project_id", "requested_at"],
    )
    op.create_index(
        "ix_callback_requests_project_phone",
        "callback_requests",
        ["project_id", "phone_e164", "requested_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_callback_requests_project_phone", table_name="callback_requests")
    op.drop_index("ix_callback_requests_project_requested", table_name="callback_requests")
    op.drop_index("ix_callback_requests_status_due", table_name="callback_requests")
    op.drop_table("callback_requests")
