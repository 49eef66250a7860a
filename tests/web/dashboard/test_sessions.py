"""The session cookie holds only who is signed in, their form token and language; it is signed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.settings import Settings
from ringtrail.storage.models import Project, User
from ringtrail.web.app import create_app
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import log_in, page_token


def _session_of(client: TestClient) -> dict[str, object]:
    cookie = client.cookies["ringtrail_session"]
    data: dict[str, object] = json.loads(base64.b64decode(cookie.split(".")[0]))
    return data


def test_the_session_holds_only_the_session_id_token_and_language(
    client: TestClient, world: World
) -> None:
    token = page_token(client)
    client.post("/language", data={"locale": "uk", "next": "/login", "csrf_token": token})
    log_in(client)
    session = _session_of(client)
    assert set(session) == {"sid", "csrf", "lang"}
    assert isinstance(session["sid"], str) and len(session["sid"]) >= 40  # random, no user id
    assert world.ours.owner.email not in json.dumps(session)


def test_signing_in_keeps_the_language_chosen_before(client: TestClient, world: World) -> None:
    token = page_token(client)
    client.post("/language", data={"locale": "ru", "next": "/login", "csrf_token": token})
    log_in(client)
    assert '<html lang="ru">' in client.get("/").text


def test_a_forged_session_cookie_signs_nobody_in(client: TestClient, world: World) -> None:
    payload = base64.b64encode(json.dumps({"uid": world.ours.owner.id}).encode()).decode()
    client.cookies.set("ringtrail_session", f"{payload}.forged.signature")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_a_cookie_signed_with_another_key_signs_nobody_in(client: TestClient, world: World) -> None:
    log_in(client)
    genuine = client.cookies["ringtrail_session"]
    data, timestamp, _signature = genuine.split(".")
    client.cookies.clear()
    client.cookies.set("ringtrail_session", f"{data}.{timestamp}.AAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert client.get("/", follow_redirects=False).status_code == 303


def _copy_of(client: TestClient) -> TestClient:
    """Another browser holding a copy of `client`'s session cookie."""
    thief = TestClient(client.app)
    thief.cookies.set("ringtrail_session", client.cookies["ringtrail_session"])
    return thief


def _session_id(client: TestClient) -> str:
    value = _session_of(client)["sid"]
    assert isinstance(value, str)
    return value


def test_a_cookie_copied_before_logout_is_refused_after_it(
    client: TestClient, world: World, db: Session
) -> None:
    project_id = world.ours.project.id
    log_in(client)
    token = page_token(client, "/")
    thief = _copy_of(client)
    assert thief.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", data={"csrf_token": token})

    page = thief.get("/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/"
    write = thief.post(
        f"/p/{project_id}/money/model",
        data={"attribution_model": "first", "csrf_token": token},
        follow_redirects=False,
    )
    assert write.status_code == 303
    assert write.headers["location"].startswith("/login")
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None and project.attribution_model == "last_non_direct"


def test_an_old_cookie_without_a_session_id_signs_nobody_in(
    client: TestClient, world: World
) -> None:
    log_in(client)
    signer = TimestampSigner("test-secret-key-not-for-production")
    payload = base64.b64encode(json.dumps({"uid": world.ours.owner.id}).encode())
    # Replace the signed-in cookie rather than add a second one beside it (which of two
    # same-named cookies a client sends first is the client's choice).
    client.cookies.clear()
    client.cookies.set("ringtrail_session", signer.sign(payload).decode())
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_a_password_change_signs_out_every_other_session(
    client: TestClient, world: World, db: Session
) -> None:
    from ringtrail.services.accounts import change_password

    log_in(client)
    other = TestClient(client.app)
    log_in(other)
    user = db.get(User, world.ours.owner.id)
    assert user is not None
    change_password(db, user, "a brand new password", keep_session=_session_id(client))
    db.commit()
    assert client.get("/", follow_redirects=False).status_code == 200
    assert other.get("/", follow_redirects=False).status_code == 303


def test_removing_a_member_signs_them_out(client: TestClient, world: World, db: Session) -> None:
    from ringtrail.services.accounts import create_user, set_membership
    from ringtrail.services.members import remove_member

    create_user(db, "sam@acme-realty.example", PASSWORD)
    sam = db.scalar(select(User).where(User.email == "sam@acme-realty.example"))
    assert sam is not None
    set_membership(db, sam, world.ours.project, Role.MARKETER)
    db.commit()
    log_in(client, email="sam@acme-realty.example")
    assert client.get("/", follow_redirects=False).status_code == 200
    remove_member(db, world.ours.project, Role.OWNER, sam.id)
    db.commit()
    assert client.get("/", follow_redirects=False).status_code == 303


def _age_session(db: Session, client: TestClient, **timestamps: timedelta) -> None:
    from ringtrail.services.user_sessions import session_digest
    from ringtrail.storage.models import UserSession

    now = datetime.now(UTC)
    db.execute(
        update(UserSession)
        .where(UserSession.token_hash == session_digest(_session_id(client)))
        .values({name: now - ago for name, ago in timestamps.items()})
    )
    db.commit()


def test_an_idle_session_expires(client: TestClient, world: World, db: Session) -> None:
    idle = timedelta(minutes=client.app.state.runtime.settings.session_idle_minutes)
    log_in(client)
    _age_session(db, client, last_seen_at=idle - timedelta(minutes=1))
    assert client.get("/", follow_redirects=False).status_code == 200
    _age_session(db, client, last_seen_at=idle + timedelta(minutes=1))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_busy_session_still_ends_at_its_absolute_age(
    client: TestClient, world: World, db: Session
) -> None:
    max_age = timedelta(days=client.app.state.runtime.settings.session_max_age_days)
    log_in(client)
    _age_session(db, client, created_at=max_age + timedelta(minutes=1))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_request_refreshes_last_seen_at_most_once_a_minute(
    client: TestClient, world: World, db: Session
) -> None:
    from ringtrail.services.user_sessions import session_digest
    from ringtrail.storage.models import UserSession

    log_in(client)
    _age_session(db, client, last_seen_at=timedelta(minutes=5))
    client.get("/")
    digest = session_digest(_session_id(client))
    seen = db.scalar(select(UserSession.last_seen_at).where(UserSession.token_hash == digest))
    assert seen is not None and datetime.now(UTC) - seen < timedelta(minutes=1)
    db.expire_all()
    client.get("/")
    again = db.scalar(select(UserSession.last_seen_at).where(UserSession.token_hash == digest))
    assert again == seen


def _set_cookie_of_login(settings: Settings) -> str:
    from ringtrail.runtime import bootstrap

    runtime = bootstrap(settings)
    try:
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            return log_in(client).headers["set-cookie"].lower()
    finally:
        runtime.close()


def test_the_cookie_is_secure_when_the_public_url_is_https(
    settings: Settings, world: World
) -> None:
    https = settings.model_copy(update={"public_url": "https://calls.example.com"})
    assert "; secure" in _set_cookie_of_login(https)


def test_an_explicit_cookie_setting_wins_over_the_public_url(
    settings: Settings, world: World
) -> None:
    plain = settings.model_copy(update={"public_url": "http://calls.example.com"})
    assert "; secure" not in _set_cookie_of_login(plain)
    forced_off = settings.model_copy(
        update={"public_url": "https://calls.example.com", "session_cookie_secure": False}
    )
    assert "; secure" not in _set_cookie_of_login(forced_off)
