"""A project's telephony provider accounts: setting them up and finding the one a webhook hits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.recordings.hosts import CONFIG_KEY as RECORDING_HOSTS
from ringtrail.recordings.hosts import checked_account_config
from ringtrail.services.audit import record_row_change, snapshot
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.sip_trunks import SIP_SIGNING_NOTE, checked_trunk_ref
from ringtrail.services.tracking import flush_or_conflict, reject_unknown
from ringtrail.services.webhook_secrets import webhook_path
from ringtrail.storage.models import Project, TelephonyAccount

PROVIDERS = ("twilio", "zadarma", "binotel", "sip")
ACCOUNT_FIELDS = frozenset(["account_ref", "secret", "config", "is_active"])


def accounts_by_ref(db: Session, provider: str, account_ref: str) -> list[TelephonyAccount]:
    """The active accounts of `provider` whose provider-side id is `account_ref`, oldest first.

    Usually one; several projects may name the same id (it is no secret), and the webhook then
    takes the one whose stored secret signs the request.
    """
    return list(
        db.scalars(
            select(TelephonyAccount)
            .where(
                TelephonyAccount.provider == provider,
                TelephonyAccount.account_ref == account_ref,
                TelephonyAccount.is_active.is_(True),
            )
            .order_by(TelephonyAccount.id)
        )
    )


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


def webhook_paths(project: Project) -> dict[str, str]:
    """Where each provider delivers this project's call events (paths under the public URL).

    Twilio's webhook finds the project by the AccountSid it sends (the account's
    `account_ref`); the others carry the project's public key in the path. SIP calls come
    through Kamailio and RabbitMQ; the `sip` entry is the generic signed webhook, which a PBX
    may post to, signed with the project's webhook secret.
    """
    key = project.public_key
    return {
        "twilio": "/hooks/twilio/voice",
        "zadarma": f"/hooks/zadarma/{key}",
        "binotel": f"/hooks/binotel/{key}",
        "sip": webhook_path(project),
    }


def list_accounts(db: Session, project: Project) -> list[TelephonyAccount]:
    """The project's accounts, active or not, in the order of PROVIDERS."""
    accounts = db.scalars(select(TelephonyAccount).where(TelephonyAccount.project_id == project.id))
    return sorted(accounts, key=lambda a: (_provider_rank(a.provider), a.provider))


def _provider_rank(provider: str) -> int:
    return PROVIDERS.index(provider) if provider in PROVIDERS else len(PROVIDERS)


def _ensure_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise NotFound(f"no such provider: {provider}; known: {', '.join(PROVIDERS)}")


def _account(db: Session, project: Project, provider: str) -> TelephonyAccount | None:
    return db.scalars(
        select(TelephonyAccount).where(
            TelephonyAccount.project_id == project.id, TelephonyAccount.provider == provider
        )
    ).first()


def set_account(
    db: Session, project: Project, provider: str, values: Mapping[str, Any]
) -> tuple[TelephonyAccount, bool]:
    """Create or change the project's account with `provider`; True when it was created.

    Only the keys in `values` change (None clears `account_ref` or `secret`); a new account
    starts with no id, no secret, an empty config and active. A `sip` account takes no
    secret, and its `account_ref` lists its trunk's addresses (services.sip_trunks).
    """
    _ensure_provider(provider)
    reject_unknown(values, ACCOUNT_FIELDS)
    if provider == "sip":
        if values.get("secret") is not None:
            raise InvalidInput("secret", SIP_SIGNING_NOTE)
        if values.get("account_ref") is not None:
            values = {**values, "account_ref": checked_trunk_ref(values["account_ref"])}
    if values.get("config") is not None:
        try:
            values = {**values, "config": checked_account_config(values["config"])}
        except ValueError as exc:
            raise InvalidInput(f"config.{RECORDING_HOSTS}", str(exc)) from None
    account = _account(db, project, provider)
    created = account is None
    before = {} if account is None else snapshot(account)
    if account is None:
        account = TelephonyAccount(
            project_id=project.id, provider=provider, config={}, is_active=True
        )
        db.add(account)
    for name in ACCOUNT_FIELDS & set(values):
        setattr(account, name, values[name])
    flush_or_conflict(db, f"{provider}: the project's account changed meanwhile; try again")
    action = "telephony_account.create" if created else "telephony_account.update"
    record_row_change(db, project, action, account, before, snapshot(account))
    return account, created


def remove_account(db: Session, project: Project, provider: str) -> None:
    """Delete the project's account with `provider` (NotFound when it has none)."""
    _ensure_provider(provider)
    account = _account(db, project, provider)
    if account is None:
        raise NotFound(f"no {provider} account in this project")
    record_row_change(db, project, "telephony_account.delete", account, snapshot(account), {})
    db.delete(account)
    db.flush()
