"""Signing in and out: the login form, its lock-out, and the session it starts or ends."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Form, Query, Request, Response
from redis import RedisError

from ringtrail.services.accounts import authenticate
from ringtrail.services.user_sessions import open_session, revoke_session
from ringtrail.web.dashboard.csrf import new_token
from ringtrail.web.dashboard.identity import CurrentUser
from ringtrail.web.dashboard.redirects import safe_next_path, see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.sessions import (
    end_session,
    session_id,
    session_lifetime,
    start_session,
)
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

log = logging.getLogger(__name__)
UNAVAILABLE_RETRY = timedelta(seconds=30)

router = dashboard_router()


def _login_page(
    request: Request,
    next_path: str,
    *,
    email: str = "",
    error: str | None = None,
    retry_after: timedelta | None = None,
    status_code: int = 200,
) -> Response:
    seconds = math.ceil(retry_after.total_seconds()) if retry_after else 0
    return dashboard_of(request).templates.render(
        request,
        "login.html",
        {
            "next_path": next_path,
            "email": email,
            "error": error,
            "retry_minutes": max(1, math.ceil(seconds / 60)),
        },
        status_code=status_code,
        headers={"Retry-After": str(seconds)} if seconds else None,
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_form(
    request: Request,
    user: CurrentUser,
    next_path: Annotated[str, Query(alias="next")] = "/",
) -> Response:
    """The sign-in form; someone already signed in goes straight on."""
    target = safe_next_path(next_path)
    if user is not None:
        return see_other(target)
    return _login_page(request, target)


@router.post("/login")
def log_in(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Check the credentials; the answer never tells whether the e-mail has an account.

    Every attempt counts towards the lock-out and costs one password verification, whatever
    the e-mail and password (empty ones included).
    """
    target = safe_next_path(next_path)
    now = datetime.now(UTC)
    dashboard = dashboard_of(request)
    try:
        wait = dashboard.throttle.admit(email, _client_address(request), now)
        if wait is not None:
            return _login_page(
                request, target, email=email, error="throttled", retry_after=wait, status_code=429
            )
        user = authenticate(db, email, password, now)
        if user is None:
            return _login_page(request, target, email=email, error="invalid", status_code=400)
        dashboard.throttle.record_success(email)
    except RedisError as exc:  # no lock-out count, no sign-in: fail closed
        log.warning("sign-in refused: the lock-out store (Redis) is unavailable: %s", exc)
        return _login_page(
            request,
            target,
            email=email,
            error="unavailable",
            retry_after=UNAVAILABLE_RETRY,
            status_code=503,
        )
    sid = open_session(db, user.id, now, session_lifetime(dashboard.settings))
    start_session(request, sid, new_token())
    return see_other(target)


@router.post("/logout")
def log_out(request: Request, db: DbSession) -> Response:
    """End the session, on the server too (a copy of the cookie stops working), and show the
    login form."""
    sid = session_id(request)
    if sid is not None:
        revoke_session(db, sid)
    end_session(request)
    return see_other("/login")
