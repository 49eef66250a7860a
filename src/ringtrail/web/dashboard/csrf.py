"""Cross-site request forgery defence: a synchronizer token in the session, checked on writes."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from ringtrail.web.dashboard.errors import CsrfRejected
from ringtrail.web.dashboard.sessions import CSRF_KEY

FIELD_NAME = "csrf_token"
HEADER_NAME = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def new_token() -> str:
    """A fresh unguessable token."""
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (every rendered form carries it)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = new_token()
        request.session[CSRF_KEY] = token
    return token


async def _submitted_token(request: Request) -> str:
    header = request.headers.get(HEADER_NAME)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FIELD_NAME)
        return value if isinstance(value, str) else ""
    return ""


async def verify_csrf(request: Request) -> None:
    """Reject an unsafe request whose token is missing or is not this session's (403)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(CSRF_KEY)
    if not isinstance(expected, str) or not expected:
        raise CsrfRejected("this browser has no form token: reload the page and send it again")
    submitted = await _submitted_token(request)
    if not submitted:
        raise CsrfRejected("the form token is missing")
    if not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CsrfRejected("the form token does not match this session")
