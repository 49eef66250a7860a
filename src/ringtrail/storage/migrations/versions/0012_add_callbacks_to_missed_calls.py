"""Add callbacks to missed calls: who called back and when

A call that needed a callback keeps how it was settled: `callback_at` (when),
`callback_resolution` (`called_back`: a person said they rang back; `answered_call`: a later
answered call with the same caller settled it), `callback_user_id` (who, for a person) and
`callback_call_id` (the answered call that settled it). `needs_callback` stays the open flag.

Existing calls keep their flag; the downgrade drops the four columns.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CALLBACK_INDEX = "ix_calls_project_callback"


def _drop_callback_index() -> None:
    # SQLite's batch mode copies the table; the partial index is made again after it.
    op.drop_index(CALLBACK_INDEX, table_name="calls")


def _create_callback_index() -> None:
    op.create_index(
        CALLBACK_INDEX,
        "calls",
        ["project_id", "started_at", "source"],
        postgresql_where=sa.text("needs_callback"),
        sqlite_where=sa.text("needs_callback"),
    )


def upgrade() -> None:
    _drop_callback_index()
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("callback_resolution", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("callback_user_id", ID, nullable=True))
        batch_op.add_column(sa.Column("callback_call_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_calls_callback_user_id_users"),
            "users",
            ["callback_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_calls_callback_call_id_calls"),
            "calls",
            ["callback_call_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _create_callback_index()


def downgrade() -> None:
    _drop_callback_index()
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_calls_callback_call_id_calls"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_calls_callback_user_id_users"), type_="foreignkey")
        batch_op.drop_column("callback_call_id")
        batch_op.drop_column("callback_user_id")
        batch_op.drop_column("callback_resolution")
        batch_op.drop_column("callback_at")
    _create_callback_index()
