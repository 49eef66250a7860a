"""Signing in and out of the dashboard."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.storage.models import User
from tests.conftest import World
from tests.web.dashboard.browser import OUR_EMAIL, csrf_of, log_in, page_token

GENERIC_ERROR = "The e-mail or password is incorrect."


def test_login_page_renders_a_form_with_a_csrf_field(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert '<form method="post" action="/login"' in response.text
    assert 'type="password"' in response.text
    assert csrf_of(response.text)


def test_good_login_redirects_home_and_lists_only_our_projects(
    client: TestClient, world: World
) -> None:
    response = log_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert world.ours.project.name in home.text
    assert world.outsider.project.name not in home.text


def test_login_goes_on_to_a_local_next_path(client: TestClient, world: World) -> None:
    target = f"/p/{world.ours.project.id}"
    response = log_in(client, next_path=target)
    assert response.headers["location"] == target


def test_login_never_follows_an_external_next_url(client: TestClient, world: World) -> None:
    for external in ("https://evil.example", "//evil.example/x", "/\\evil.example"):
        response = log_in(client, next_path=external)
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_login_form_drops_an_external_next_url(client: TestClient) -> None:
    page = client.get("/login", params={"next": "https://evil.example"}).text
    assert '<input type="hidden" name="next" value="/">' in page
    assert 'value="https://evil.example"' not in page


def test_bad_password_is_refused_with_a_generic_message(client: TestClient, world: World) -> None:
    response = log_in(client, password="not the password")
    assert response.status_code == 400
    assert GENERIC_ERROR in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_unknown_email_gets_the_same_answer_as_a_bad_password(
    client: TestClient, world: World
) -> None:
    unknown = log_in(client, email="nobody@acme-realty.example", password="whatever123")
    wrong = log_in(client, password="whatever123")
    assert unknown.status_code == wrong.status_code == 400
    assert GENERIC_ERROR in unknown.text
    assert unknown.text.replace("nobody@acme-realty.example", OUR_EMAIL) == wrong.text


def test_logged_out_visitor_is_sent_to_login_and_back(client: TestClient, world: World) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_signed_in_visitor_skips_the_login_form(client: TestClient, world: World) -> None:
    log_in(client)
    response = client.get("/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    log_in(client)
    token = page_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


def test_a_deactivated_users_session_stops_on_the_next_request(
    client: TestClient, world: World, db: Session
) -> None:
    log_in(client)
    assert client.get("/").status_code == 200
    user = db.get(User, world.ours.owner.id)
    assert user is not None
    user.is_active = False
    db.commit()
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_a_deactivated_user_cannot_sign_in(client: TestClient, world: World, db: Session) -> None:
    user = db.get(User, world.ours.owner.id)
    assert user is not None
    user.is_active = False
    db.commit()
    assert log_in(client).status_code == 400


def test_repeated_failures_for_one_email_are_throttled(client: TestClient, world: World) -> None:
    for _ in range(10):
        assert log_in(client, password="wrong password").status_code == 400
    blocked = log_in(client)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed attempts" in blocked.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_throttling_one_email_leaves_others_alone(client: TestClient, world: World) -> None:
    for _ in range(10):
        log_in(client, email="someone@else.example", password="wrong password")
    assert log_in(client, email=OUR_EMAIL).status_code == 303
