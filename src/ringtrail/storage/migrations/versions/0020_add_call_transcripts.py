"""Add call transcripts: one per call, made here or imported, and the transcription queue

`call_transcripts` holds a call's transcript (segments with speaker and times as JSON, the
text for search, language, the engine and model that made it or `provider` as the source)
and its place in the transcription job's queue: status, progress, attempts, when it is next
due, how long a worker's claim lasts, and the last error in words. The downgrade drops it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "call_transcripts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("recording_id", ID, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("engine", sa.String(length=40), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("segments", JSON, nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_transcripts_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_call_transcripts_recording_id_recordings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_transcripts")),
        sa.UniqueConstraint("call_id", name=op.f("uq_call_transcripts_call_id")),
    )
    with op.batch_alter_table("call_transcripts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_transcripts_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_transcripts_recording_id"), ["recording_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("call_transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_transcripts_recording_id"))
        batch_op.drop_index("ix_call_transcripts_due")
    op.drop_table("call_transcripts")
