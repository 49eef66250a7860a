"""Rotate webhook secrets with a grace period; unmatched calls by trunk

Projects gain `previous_webhook_secret` (encrypted like `webhook_secret`) and
`previous_webhook_secret_until`: after a rotation the generic webhook accepts the old secret
until then. SIP accounts (`telephony_accounts` with provider `sip`) now name a trunk by the
addresses its carrier signals from, and carry no secret: SIP events come from Ringtrail's own
Kamailio through RabbitMQ and nothing ever checked one, so stored values are cleared. A
downgrade cannot bring those back (they were never used).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_webhook_secret", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("previous_webhook_secret_until", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE telephony_accounts SET secret = NULL WHERE provider = 'sip'")


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("previous_webhook_secret_until")
        batch_op.drop_column("previous_webhook_secret")
