"""Where the dashboard may send a browser next: local paths only (no open redirects)."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse

HOME = "/"


def safe_next_path(candidate: str | None, fallback: str = HOME) -> str:
    """`candidate` when it is a path on this site, else `fallback`.

    Rejected: absolute URLs (`https://evil.example`), scheme-relative ones (`//evil.example`),
    backslash tricks browsers read as `//` (`/\\evil.example`), and control characters.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return fallback
    if "\\" in candidate or any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
        return fallback
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return fallback
    return candidate


def see_other(path: str) -> RedirectResponse:
    """A 303 to a local path (after a form post, the browser follows with a GET)."""
    return RedirectResponse(path, status_code=303)


def login_url(next_path: str) -> str:
    """The login form, coming back to `next_path` afterwards."""
    return f"/login?next={quote(safe_next_path(next_path), safe='/')}"


def current_path(request: Request) -> str:
    """This page's path and query, to come back to after a form post (`?lang=` left out)."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return request.url.path + (f"?{query}" if query else "")
