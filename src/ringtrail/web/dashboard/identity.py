"""Who is signed in: the session's user, re-checked against the database on every request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from ringtrail.services.audit import Actor, act_as
from ringtrail.services.user_sessions import resume_session
from ringtrail.storage.models import User
from ringtrail.web.dashboard.errors import LoginRequired
from ringtrail.web.dashboard.redirects import current_path
from ringtrail.web.dashboard.sessions import (
    claims_sign_in,
    end_session,
    session_id,
    session_lifetime,
)
from ringtrail.web.deps import DbSession, get_runtime

_STATE_KEY = "dashboard_user"


def current_user(request: Request, db: DbSession) -> User | None:
    """The signed-in user, or None; a revoked, expired or deactivated user's session ends here."""
    sid = session_id(request)
    lifetime = session_lifetime(get_runtime(request).settings)
    user = resume_session(db, sid, datetime.now(UTC), lifetime) if sid else None
    if user is None and claims_sign_in(request):
        end_session(request)
    setattr(request.state, _STATE_KEY, user)
    if user is not None:
        act_as(db, Actor("user", user.id))
    return user


def require_user(request: Request, user: Annotated[User | None, Depends(current_user)]) -> User:
    """The signed-in user; anyone else is sent to the login form and brought back after."""
    if user is None:
        raise LoginRequired(current_path(request))
    return user


def signed_in_user(request: Request) -> User | None:
    """The user `current_user` found for this request (None before it ran, or when signed out)."""
    user = getattr(request.state, _STATE_KEY, None)
    return user if isinstance(user, User) else None


CurrentUser = Annotated[User | None, Depends(current_user)]
RequiredUser = Annotated[User, Depends(require_user)]
