"""Every dashboard write needs this session's form token; the API and tracking do not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import OUR_EMAIL, log_in, page_token


def _login_form(token: str | None) -> dict[str, str]:
    form = {"email": OUR_EMAIL, "password": PASSWORD, "next": "/"}
    if token is not None:
        form["csrf_token"] = token
    return form


def test_login_without_a_token_is_forbidden(client: TestClient, world: World) -> None:
    page_token(client)
    response = client.post("/login", data=_login_form(None), follow_redirects=False)
    assert response.status_code == 403
    assert "Form expired" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_with_a_wrong_token_is_forbidden(client: TestClient, world: World) -> None:
    page_token(client)
    response = client.post("/login", data=_login_form("forged"), follow_redirects=False)
    assert response.status_code == 403


def test_login_from_a_browser_that_never_saw_the_form_is_forbidden(
    client: TestClient, world: World
) -> None:
    response = client.post("/login", data=_login_form("anything"), follow_redirects=False)
    assert response.status_code == 403


def test_another_sessions_token_is_not_accepted(client: TestClient, world: World) -> None:
    foreign_token = page_token(client)
    client.cookies.clear()
    page_token(client)
    response = client.post("/login", data=_login_form(foreign_token), follow_redirects=False)
    assert response.status_code == 403


def test_the_token_may_come_in_a_header(client: TestClient, world: World) -> None:
    log_in(client)
    token = page_token(client, "/")
    response = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_logout_without_a_token_is_forbidden(client: TestClient, world: World) -> None:
    log_in(client)
    response = client.post("/logout", follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/").status_code == 200


def test_language_switch_without_a_token_is_forbidden(client: TestClient, world: World) -> None:
    page_token(client)
    response = client.post("/language", data={"locale": "ru"}, follow_redirects=False)
    assert response.status_code == 403


def test_signing_in_issues_a_fresh_token(client: TestClient, world: World) -> None:
    before = page_token(client)
    log_in(client)
    assert page_token(client, "/") != before


def test_the_api_is_not_subject_to_form_tokens(client: TestClient, world: World) -> None:
    log_in(client)
    response = client.get("/api/v1/projects", headers=world.ours.org_auth)
    assert response.status_code == 200
    created = client.post(
        "/api/v1/projects", json={"name": "No token needed"}, headers=world.ours.org_auth
    )
    assert created.status_code == 201
