"""Let projects share a provider account id: telephony_accounts (provider, account_ref) no
longer unique

A Twilio AccountSid is not a secret, so the first project to type one could keep its owner
out. Now any project may name any AccountSid, and a Twilio webhook goes to the project whose
stored auth token signs it (web.hooks.twilio). The unique index becomes a plain one.

A downgrade needs every (provider, account_ref) pair to be unique again; it stops with the
pairs to resolve when some are not.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-11 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telephony_accounts", schema=None) as batch_op:
        batch_op.drop_index("uq_telephony_accounts_provider_ref")
        batch_op.create_index(
            "ix_telephony_accounts_provider_ref", ["provider", "account_ref"], unique=False
        )


def downgrade() -> None:
    shared = op.get_bind().execute(
        sa.text(
            "SELECT provider, account_ref FROM telephony_accounts"
            " WHERE account_ref IS NOT NULL GROUP BY provider, account_ref HAVING COUNT(*) > 1"
        )
    )
    pairs = [f"{provider} {ref}" for provider, ref in shared]
    if pairs:
        raise RuntimeError(
            "cannot downgrade: several projects hold the same provider account id; keep it in"
            f" one project only first: {', '.join(pairs)}"
        )
    with op.batch_alter_table("telephony_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_telephony_accounts_provider_ref")
        batch_op.create_index(
            "uq_telephony_accounts_provider_ref", ["provider", "account_ref"], unique=True
        )
