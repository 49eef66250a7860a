"""Accounts: users and passwords (argon2), organisations, memberships and API keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.audit import record
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.services.quotas import ensure_api_key_quota
from ringtrail.services.user_sessions import revoke_user_sessions
from ringtrail.storage.models import ApiKey, Membership, Organization, Project, User

_hasher = PasswordHasher()
API_KEY_PREFIX = "rt_"
MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _unmatchable_hash() -> str:
    """A hash no password matches, verified against when there is no account to check."""
    return hash_password(secrets.token_urlsafe(32))


def slugify(text: str) -> str:
    """A URL-safe lower-case slug (latin letters, digits and dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:100] or "item"


def create_user(
    db: Session,
    email: str,
    password: str,
    *,
    name: str = "",
    is_superuser: bool = False,
    locale: str | None = None,
) -> User:
    """A new dashboard user; the e-mail must be unused."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput("email", "not an e-mail address")
    _check_password(password)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email} exists")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        is_superuser=is_superuser,
        locale=locale,
    )
    db.add(user)
    db.flush()
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")


def authenticate(db: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with these credentials, or None. Rehashes outdated argon2 params.

    Every attempt, with an empty password or for an unknown e-mail too, costs one argon2
    verification, so neither the time taken nor a cheap flood tells anything apart.
    """
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        verify_password(_unmatchable_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def change_password(
    db: Session, user: User, new_password: str, *, keep_session: str | None = None
) -> int:
    """Set a new password and end the user's other sessions (all but `keep_session`).

    Returns how many sessions ended.
    """
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    return revoke_user_sessions(db, user.id, keep=keep_session)


def get_or_create_organization(db: Session, name: str) -> Organization:
    """The organisation named `name`, created if missing."""
    slug = slugify(name)
    organization = db.scalar(select(Organization).where(Organization.slug == slug))
    if organization is None:
        organization = Organization(name=name, slug=slug)
        db.add(organization)
        db.flush()
    return organization


def set_membership(db: Session, user: User, project: Project, role: Role) -> Membership:
    """Give `user` `role` in `project` (replacing any earlier role)."""
    membership = db.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.project_id == project.id)
    )
    if membership is None:
        membership = Membership(user_id=user.id, project_id=project.id, role=role.value)
        db.add(membership)
    else:
        membership.role = role.value
    db.flush()
    return membership


def role_in_project(db: Session, user: User, project_id: int) -> Role | None:
    """The user's role in the project; superusers are owners everywhere."""
    if user.is_superuser:
        return Role.OWNER
    role = db.scalar(
        select(Membership.role).where(
            Membership.user_id == user.id, Membership.project_id == project_id
        )
    )
    return Role(role) if role else None


def projects_of_user(db: Session, user: User) -> list[tuple[Project, Role]]:
    """The projects `user` can open, with the role held in each, by name."""
    if user.is_superuser:
        return [(p, Role.OWNER) for p in db.scalars(select(Project).order_by(Project.name))]
    rows = db.execute(
        select(Project, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == user.id)
        .order_by(Project.name)
    )
    return [(project, Role(role)) for project, role in rows]


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly issued key: `secret` is shown once and never stored."""

    key: ApiKey
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(
    db: Session,
    organization: Organization,
    name: str,
    role: Role,
    *,
    project: Project | None = None,
    created_by: User | None = None,
    max_keys: int | None = None,
) -> IssuedApiKey:
    """A new API key for the organisation, or for one project of it when `project` is given.

    QuotaExceeded when the organisation holds `max_keys` live keys already (None: no limit).
    """
    if project is not None and project.organization_id != organization.id:
        raise InvalidInput("project_id", "belongs to another organisation")
    ensure_api_key_quota(db, organization.id, max_keys)
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        organization_id=organization.id,
        project_id=project.id if project else None,
        name=name,
        prefix=prefix,
        key_hash=_digest(secret),
        role=role.value,
        created_by_user_id=created_by.id if created_by else None,
    )
    db.add(key)
    db.flush()
    _log_key(db, key, "api_key.create", {"name": (None, name), "role": (None, role.value)})
    return IssuedApiKey(key=key, secret=secret)


def _log_key(db: Session, key: ApiKey, action: str, changes: dict[str, tuple[Any, Any]]) -> None:
    record(
        db,
        organization_id=key.organization_id,
        project_id=key.project_id,
        action=action,
        object_type="api_key",
        object_id=key.id,
        changes={name: {"old": old, "new": new} for name, (old, new) in changes.items()},
    )


def resolve_api_key(db: Session, secret: str, now: datetime | None = None) -> ApiKey | None:
    """The live key whose secret this is, or None (unknown, malformed or revoked)."""
    if not secret.startswith(API_KEY_PREFIX):
        return None
    prefix, _, rest = secret[len(API_KEY_PREFIX) :].partition("_")
    if not prefix or not rest:
        return None
    key = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, _digest(secret)):
        return None
    key.last_used_at = now or datetime.now(UTC)
    return key


def revoke_api_key(db: Session, key_id: int, organization_id: int, now: datetime) -> ApiKey:
    """Revoke a key of the organisation; revoked keys stay listed for the audit trail."""
    key = db.get(ApiKey, key_id)
    if key is None or key.organization_id != organization_id:
        raise NotFound("no such API key")
    revoke_key(db, key, now)
    return key


def revoke_key(db: Session, key: ApiKey, now: datetime) -> None:
    """Refuse `key` from now on (it stays listed); logged the first time."""
    if key.revoked_at is None:
        key.revoked_at = now
        db.flush()
        _log_key(db, key, "api_key.revoke", {"revoked_at": (None, now.isoformat())})
