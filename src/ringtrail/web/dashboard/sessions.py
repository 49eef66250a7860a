"""The signed session cookie: what it holds (user id, CSRF token, language) and who may write it."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from ringtrail.settings import Settings

COOKIE_NAME = "ringtrail_session"
USER_ID_KEY = "uid"
CSRF_KEY = "csrf"
LOCALE_KEY = "lang"


def install_sessions(app: FastAPI, settings: Settings) -> None:
    """Sign session cookies with the instance's secret key; lax same-site, HTTP-only."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=COOKIE_NAME,
        max_age=settings.session_max_age_days * 24 * 60 * 60,
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )


def session_user_id(request: Request) -> int | None:
    """The signed-in user's id as the cookie says (not yet checked against the database)."""
    value = request.session.get(USER_ID_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def session_locale(request: Request) -> str | None:
    """The language chosen in this browser, if any."""
    value = request.session.get(LOCALE_KEY)
    return value if isinstance(value, str) else None


def start_session(request: Request, user_id: int, csrf_token: str) -> None:
    """Sign `user_id` in, with a fresh CSRF token, keeping only the chosen language."""
    locale = session_locale(request)
    request.session.clear()
    request.session[USER_ID_KEY] = user_id
    request.session[CSRF_KEY] = csrf_token
    if locale:
        request.session[LOCALE_KEY] = locale


def end_session(request: Request) -> None:
    """Forget everything the cookie held; the middleware then expires the cookie."""
    request.session.clear()


def remember_locale(request: Request, locale: str) -> None:
    """Keep the chosen language for this browser."""
    request.session[LOCALE_KEY] = locale
