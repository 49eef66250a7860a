"""Signing in and out of the dashboard."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services import accounts
from ringtrail.storage.models import User
from ringtrail.web.app import create_app
from ringtrail.web.dashboard import throttle
from tests.conftest import World
from tests.web.dashboard.browser import OUR_EMAIL, OUTSIDER_EMAIL, csrf_of, log_in, page_token

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


def _fail_logins(client: TestClient, email: str, times: int, password: str = "wrong") -> None:
    for _ in range(times):
        assert log_in(client, email=email, password=password).status_code in (400, 429)


def test_a_flood_of_junk_logins_does_not_lift_an_accounts_lock(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "MAX_TRACKED", 20)  # the same path as 10,000 junk e-mails
    with TestClient(create_app(runtime)) as client:
        _fail_logins(client, OUR_EMAIL, 10)
        assert log_in(client).status_code == 429
        for number in range(60):
            log_in(client, email=f"junk{number}@flood.example", password="")
        locked = log_in(client)
        assert locked.status_code == 429
        assert client.get("/", follow_redirects=False).status_code == 303


def test_an_empty_password_is_verified_and_counted_like_any_other(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = accounts.verify_password

    def spy(password_hash: str, password: str) -> bool:
        verified.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    _fail_logins(client, OUR_EMAIL, 10, password="")
    assert verified == [""] * 10  # argon2 ran for each: junk costs what a guess costs
    assert log_in(client).status_code == 429


def test_an_unknown_email_costs_an_argon2_verification_too(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = accounts.verify_password

    def spy(password_hash: str, password: str) -> bool:
        verified.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    assert log_in(client, email="nobody@example.com", password="guess").status_code == 400
    assert log_in(client, email="", password="guess").status_code == 400
    assert verified == ["guess", "guess"]


def test_an_account_is_locked_from_every_address(runtime: Runtime, world: World) -> None:
    app = create_app(runtime)
    with TestClient(app, client=("203.0.113.1", 5000)) as attacker:
        _fail_logins(attacker, OUR_EMAIL, 10)
    with TestClient(app, client=("198.51.100.7", 5000)) as owner:
        blocked = log_in(owner)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0


def test_one_address_is_locked_across_every_email(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_ADDRESS", 20)
    app = create_app(runtime)
    with TestClient(app, client=("203.0.113.1", 5000)) as attacker:
        for number in range(20):
            log_in(attacker, email=f"user{number}@spray.example", password="Password1")
        assert log_in(attacker, email=OUTSIDER_EMAIL, password="Password1").status_code == 429
    with TestClient(app, client=("198.51.100.7", 5000)) as elsewhere:
        assert log_in(elsewhere, email=OUTSIDER_EMAIL).status_code == 303


def test_the_lock_holds_across_app_processes_sharing_redis(
    runtime: Runtime, world: World, redis_url: str
) -> None:
    prefix = f"ringtrail-test-{uuid.uuid4().hex[:12]}"
    settings = runtime.settings.model_copy(
        update={"redis_url": redis_url, "redis_key_prefix": prefix}
    )
    first, second = bootstrap(settings), bootstrap(settings)
    try:
        with TestClient(create_app(first)) as one, TestClient(create_app(second)) as other:
            _fail_logins(one, OUR_EMAIL, 10)
            assert log_in(other).status_code == 429
            assert log_in(other, email=OUTSIDER_EMAIL).status_code == 303
    finally:
        assert first.redis is not None
        keys = list(first.redis.scan_iter(match=f"{prefix}:*"))
        if keys:
            first.redis.delete(*keys)
        first.close()
        second.close()


def test_the_lock_message_says_when_to_retry_in_every_language(
    client: TestClient, world: World
) -> None:
    _fail_logins(client, OUR_EMAIL, 10)
    token = page_token(client)
    for locale, text in (
        ("en", "Too many failed attempts. Try again in 15 minutes."),
        ("ru", "Слишком много неудачных попыток. Попробуйте снова через 15 минут."),
        ("uk", "Забагато невдалих спроб. Спробуйте знову за 15 хвилин."),
    ):
        client.post("/language", data={"locale": locale, "next": "/login", "csrf_token": token})
        assert text in log_in(client).text
