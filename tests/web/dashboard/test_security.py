"""Dashboard answers carry framing, sniffing, referrer and content-security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import World
from tests.web.dashboard.browser import log_in


def _assert_secured(response: Response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy, "the policy names no external origin"


def test_pages_redirects_and_error_pages_are_secured(client: TestClient, world: World) -> None:
    _assert_secured(client.get("/login"))
    _assert_secured(client.get("/", follow_redirects=False))
    _assert_secured(client.post("/logout", follow_redirects=False))
    log_in(client)
    _assert_secured(client.get("/"))
    _assert_secured(client.get(f"/p/{world.outsider.project.id}"))


def test_static_files_ship_with_the_package_and_are_secured(client: TestClient) -> None:
    page = client.get("/login").text
    assert 'href="/static/dashboard.css"' in page
    stylesheet = client.get("/static/dashboard.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    _assert_secured(stylesheet)
    assert client.get("/static/dashboard.js").status_code == 200


def test_pages_load_nothing_from_other_origins(client: TestClient, world: World) -> None:
    log_in(client)
    for path in ("/login", "/", f"/p/{world.ours.project.id}"):
        page = client.get(path).text
        for attribute in ('src="http', 'href="http', 'src="//', 'href="//', "@import"):
            assert attribute not in page, (path, attribute)


def test_session_cookie_is_http_only_and_same_site_lax(client: TestClient) -> None:
    cookie = client.get("/login").headers["set-cookie"]
    assert cookie.startswith("ringtrail_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


def test_pages_are_not_cached(client: TestClient) -> None:
    assert client.get("/login").headers["cache-control"] == "no-store"
