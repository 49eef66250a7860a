"""What a browser does with the dashboard in tests: read the form token, sign in, sign out."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import PASSWORD

OUR_EMAIL = "owner@acme-realty.example"
OUTSIDER_EMAIL = "owner@other-clinic.example"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token rendered into a page's forms."""
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def page_token(client: TestClient, path: str = "/login") -> str:
    """Open `path` and return the token its forms carry."""
    return csrf_of(client.get(path).text)


def log_in(
    client: TestClient, email: str = OUR_EMAIL, password: str = PASSWORD, next_path: str = "/"
) -> Response:
    """Post the login form the way a browser does, without following the redirect."""
    token = page_token(client)
    response: Response = client.post(
        "/login",
        data={"email": email, "password": password, "next": next_path, "csrf_token": token},
        follow_redirects=False,
    )
    return response
