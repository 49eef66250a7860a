"""The session cookie holds only who is signed in, their form token and language; it is signed."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.web.dashboard.browser import log_in, page_token


def _session_of(client: TestClient) -> dict[str, object]:
    cookie = client.cookies["ringtrail_session"]
    data: dict[str, object] = json.loads(base64.b64decode(cookie.split(".")[0]))
    return data


def test_the_session_holds_only_the_user_id_token_and_language(
    client: TestClient, world: World
) -> None:
    token = page_token(client)
    client.post("/language", data={"locale": "uk", "next": "/login", "csrf_token": token})
    log_in(client)
    session = _session_of(client)
    assert set(session) == {"uid", "csrf", "lang"}
    assert session["uid"] == world.ours.owner.id
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
