"""Dashboard sessions kept server-side: opened at sign-in, checked per request, revoked at will.

The browser holds a random session id; the database holds its SHA-256 digest, the user, and
when it was opened and last seen. A session ends when its row is gone: on logout, when its
user changes password or loses a membership, or when it sat idle or grew too old.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from ringtrail.storage.models import User, UserSession

TOUCH_INTERVAL = timedelta(minutes=1)
"""`last_seen_at` is rewritten at most this often, not on every request."""


@dataclass(frozen=True)
class SessionLifetime:
    """How long a session may sit unused (`idle`) and live at most (`absolute`)."""

    idle: timedelta
    absolute: timedelta


def session_digest(session_id: str) -> str:
    """What is stored for a session id (the id itself never is)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(db: Session, user_id: int, now: datetime, lifetime: SessionLifetime) -> str:
    """Start a session for `user_id` and return its id, for the cookie only."""
    db.execute(
        delete(UserSession).where(UserSession.user_id == user_id, UserSession.expires_at <= now)
    )
    session_id = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            user_id=user_id,
            token_hash=session_digest(session_id),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime.absolute,
        )
    )
    db.flush()
    return session_id


def _expired(row: UserSession, now: datetime, lifetime: SessionLifetime) -> bool:
    return (
        now >= row.expires_at
        or now >= row.created_at + lifetime.absolute
        or now >= row.last_seen_at + lifetime.idle
    )


def resume_session(
    db: Session, session_id: str, now: datetime, lifetime: SessionLifetime
) -> User | None:
    """The active user of a live session, or None (unknown, revoked, expired, deactivated).

    An expired session or one of a deactivated user is deleted on the way.
    """
    found = db.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == session_digest(session_id))
    ).first()
    if found is None:
        return None
    row, user = found
    if _expired(row, now, lifetime) or not user.is_active:
        db.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return user


def revoke_session(db: Session, session_id: str) -> None:
    """End one session (logout)."""
    db.execute(delete(UserSession).where(UserSession.token_hash == session_digest(session_id)))


def revoke_user_sessions(db: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of `user_id`, except the one whose id is `keep`; how many ended."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserSession.token_hash != session_digest(keep))
    result = db.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount
