"""Store provider secrets encrypted: widen projects.webhook_secret to hold ciphertext

Telephony account secrets and generic webhook signing secrets are now written encrypted
(storage.encryption); telephony_accounts.secret is text already. Existing plaintext values stay
readable and are encrypted with the process's key by the first command that starts after the
upgrade (`serve`, `worker`, the admin commands) or by `ringtrail secrets reencrypt`: a migration
may run without the key (a bare `alembic upgrade`), a process never does.

Before downgrading below this revision run `ringtrail secrets decrypt`: older versions read
the stored values as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.alter_column(
            "webhook_secret",
            existing_type=sa.String(length=128),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.alter_column(
            "webhook_secret",
            existing_type=sa.Text(),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
