"""The signed session cookie: what it holds (session id, CSRF token, language) and who writes it.

The cookie names a server-side session (services.user_sessions); who is signed in, and
whether they still are, is decided there on every request.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from ringtrail.services.user_sessions import SessionLifetime
from ringtrail.settings import Settings

COOKIE_NAME = "ringtrail_session"
SESSION_ID_KEY = "sid"
LEGACY_USER_ID_KEY = "uid"
"""Cookies from before server-side sessions held the user id; their holders are signed out."""
CSRF_KEY = "csrf"
LOCALE_KEY = "lang"


def session_lifetime(settings: Settings) -> SessionLifetime:
    """Idle and absolute session limits from the settings."""
    return SessionLifetime(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(days=settings.session_max_age_days),
    )


def install_sessions(app: FastAPI, settings: Settings) -> None:
    """Sign session cookies with the instance's secret key; lax same-site, HTTP-only, and
    `Secure` when configured or when the public URL is HTTPS."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=COOKIE_NAME,
        max_age=settings.session_max_age_days * 24 * 60 * 60,
        same_site="lax",
        https_only=settings.session_cookie_is_secure,
    )


def session_id(request: Request) -> str | None:
    """The server-side session this cookie names (not yet checked against the database)."""
    value = request.session.get(SESSION_ID_KEY)
    return value if isinstance(value, str) and value else None


def claims_sign_in(request: Request) -> bool:
    """Whether the cookie says someone is signed in (a session id, or an old user id)."""
    return SESSION_ID_KEY in request.session or LEGACY_USER_ID_KEY in request.session


def session_locale(request: Request) -> str | None:
    """The language chosen in this browser, if any."""
    value = request.session.get(LOCALE_KEY)
    return value if isinstance(value, str) else None


def start_session(request: Request, session_id: str, csrf_token: str) -> None:
    """Carry the server-side session `session_id`, with a fresh CSRF token; keep the language."""
    locale = session_locale(request)
    request.session.clear()
    request.session[SESSION_ID_KEY] = session_id
    request.session[CSRF_KEY] = csrf_token
    if locale:
        request.session[LOCALE_KEY] = locale


def end_session(request: Request) -> None:
    """Forget everything the cookie held; the middleware then expires the cookie."""
    request.session.clear()


def remember_locale(request: Request, locale: str) -> None:
    """Keep the chosen language for this browser."""
    request.session[LOCALE_KEY] = locale
