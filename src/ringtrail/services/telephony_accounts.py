"""A project's telephony provider accounts: finding the one a webhook belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import Project, TelephonyAccount

PROVIDERS = ("twilio", "zadarma", "binotel", "sip")


def account_by_ref(db: Session, provider: str, account_ref: str) -> TelephonyAccount | None:
    """The active account of `provider` whose provider-side id is `account_ref`."""
    return db.scalars(
        select(TelephonyAccount)
        .where(
            TelephonyAccount.provider == provider,
            TelephonyAccount.account_ref == account_ref,
            TelephonyAccount.is_active.is_(True),
        )
        .order_by(TelephonyAccount.id)
        .limit(1)
    ).first()


def account_of_project(db: Session, project: Project, provider: str) -> TelephonyAccount | None:
    """The project's active account with `provider`, if it has one."""
    return db.scalars(
        select(TelephonyAccount).where(
            TelephonyAccount.project_id == project.id,
            TelephonyAccount.provider == provider,
            TelephonyAccount.is_active.is_(True),
        )
    ).first()


def project_by_public_key(db: Session, public_key: str) -> Project | None:
    """The project whose tracking key (the one in its script tag and webhook URLs) this is."""
    return db.scalars(select(Project).where(Project.public_key == public_key)).first()
