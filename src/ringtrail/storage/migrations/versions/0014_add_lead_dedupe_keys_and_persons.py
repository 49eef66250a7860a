"""Leads from forms and callback requests: a dedupe key and the person a lead joins

Leads gain `dedupe_key` (unique per project: a form posted twice, or a callback requested
twice, names the same key and makes one lead) and `person_id` (the first lead of the person:
a form lead and a call from the same phone within the project's unique-call window join one
person). An index on (project, phone, created) serves both lookups.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-21 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("person_id", ID, nullable=True))
        batch_op.create_index("ix_leads_project_dedupe", ["project_id", "dedupe_key"], unique=True)
        batch_op.create_index(
            "ix_leads_project_phone", ["project_id", "phone_e164", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_project_phone")
        batch_op.drop_index("ix_leads_project_dedupe")
        batch_op.drop_column("person_id")
        batch_op.drop_column("dedupe_key")
