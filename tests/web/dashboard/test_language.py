"""Pages speak English, Russian or Ukrainian: chosen by switcher, account, browser or default."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.storage.models import User
from tests.conftest import World
from tests.web.dashboard.browser import log_in, page_token


def test_english_is_the_default(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    assert "Sign in to Ringtrail" in page.text


def test_accept_language_ru_renders_russian(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert '<html lang="ru">' in page.text
    assert "Вход в Ringtrail" in page.text
    assert page.headers["content-language"] == "ru"


def test_accept_language_uk_renders_ukrainian(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "uk"})
    assert '<html lang="uk">' in page.text
    assert "Вхід до Ringtrail" in page.text


def test_unsupported_browser_languages_fall_back_to_the_default(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "de-DE, fr;q=0.5"})
    assert '<html lang="en">' in page.text


def test_lang_query_renders_one_page_in_that_language(client: TestClient) -> None:
    assert "Вхід до Ringtrail" in client.get("/login", params={"lang": "uk"}).text
    assert "Sign in to Ringtrail" in client.get("/login").text


def test_logged_in_pages_are_translated(client: TestClient, world: World) -> None:
    log_in(client)
    page = client.get("/", headers={"Accept-Language": "uk"}).text
    assert "Ваші проєкти" in page
    assert "Власник" in page
    overview = client.get(f"/p/{world.ours.project.id}", headers={"Accept-Language": "ru"}).text
    assert "Установите скрипт отслеживания" in overview


def test_switcher_remembers_the_choice_for_a_signed_out_browser(client: TestClient) -> None:
    token = page_token(client)
    response = client.post(
        "/language",
        data={"locale": "uk", "next": "/login", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert '<html lang="uk">' in client.get("/login", headers={"Accept-Language": "en"}).text


def test_switcher_persists_the_choice_on_the_users_account(
    client: TestClient, world: World, db: Session
) -> None:
    log_in(client)
    token = page_token(client, "/")
    client.post("/language", data={"locale": "ru", "next": "/", "csrf_token": token})
    assert "Ваши проекты" in client.get("/").text
    user = db.get(User, world.ours.owner.id)
    assert user is not None
    db.refresh(user)
    assert user.locale == "ru"

    client.cookies.clear()
    log_in(client)
    assert '<html lang="ru">' in client.get("/", headers={"Accept-Language": "en"}).text


def test_switcher_refuses_an_unknown_language(client: TestClient) -> None:
    token = page_token(client)
    response = client.post("/language", data={"locale": "xx", "csrf_token": token})
    assert response.status_code == 400


def test_switcher_never_redirects_off_site(client: TestClient) -> None:
    token = page_token(client)
    response = client.post(
        "/language",
        data={"locale": "ru", "next": "https://evil.example/", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"
