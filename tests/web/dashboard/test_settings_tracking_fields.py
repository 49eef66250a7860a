"""The project settings page sets every tracking setting, and marks each refused field."""

from __future__ import annotations

from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from ringtrail.storage.models import Project
from tests.conftest import World
from tests.web.dashboard.test_settings_pages import admin, post, settings

__all__ = ["admin"]  # the signed-in admin fixture, shared with the other settings tests

FORM = {
    "name": "Acme Realty site",
    "timezone": "Europe/Kyiv",
    "currency": "UAH",
    "unique_call_window_days": "30",
    "grace_minutes": "15",
    "cooldown_minutes": "15",
    "target_call_goal_percent": "50",
    "tracking_fields": "1",
}


def _project(db: Session, project_id: int) -> Project:
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None
    return project


def test_the_four_tracking_settings_are_saved_from_the_page(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    page = client.get(settings(project_id)).text
    for field in ("allowed_domains", "main_number", "replace_numbers", "swap_selectors"):
        assert f'name="{field}"' in page
    assert "acme-realty.example" in page
    tracking = {
        "allowed_domains": "Bücher.Example\r\nwww.acme-realty.example\r\n",
        "main_number": "(044) 123-45-67",
        "replace_numbers": "044 765 43 21\n+1 212 555 0123",
        "swap_selectors": ".phone\n#footer a[href^='tel:']",
    }
    response = post(client, admin, settings(project_id), {**FORM, **tracking})
    assert response.status_code == 303, response.text
    project = _project(db, project_id)
    assert project.allowed_domains == ["www.acme-realty.example", "xn--bcher-kva.example"]
    assert project.main_number == "+380441234567"
    assert project.replace_numbers == ["+380447654321", "+12125550123"]
    assert project.swap_selectors == [".phone", "#footer a[href^='tel:']"]
    shown = client.get(settings(project_id)).text
    assert "+380447654321\n+12125550123" in shown
    cleared = post(client, admin, settings(project_id), {**FORM, "main_number": ""})
    assert cleared.status_code == 303
    project = _project(db, project_id)
    assert (project.main_number, project.swap_selectors) == (None, [])
    assert project.allowed_domains == [], "an emptied field is emptied"
    post(client, admin, settings(project_id), {**FORM, **tracking})
    older_form = {key: value for key, value in FORM.items() if key != "tracking_fields"}
    assert post(client, admin, settings(project_id), older_form).status_code == 303
    assert _project(db, project_id).swap_selectors == [".phone", "#footer a[href^='tel:']"]


def test_each_refused_tracking_field_is_marked_and_nothing_is_saved(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    bad = {
        "allowed_domains": "https://example.com/contacts",
        "main_number": "12345",
        "replace_numbers": "+380447654321\nnot a phone",
        "swap_selectors": ".a {color: red}",
    }
    refused = post(client, admin, settings(project_id), {**FORM, "name": "Renamed", **bad})
    assert refused.status_code == 400
    text = refused.text
    for field in bad:
        assert f'id="{field}-problem"' in text, field
    assert text.count('aria-invalid="true"') == 4
    assert "without https://, a port or a path." in text
    assert str(escape(".a {color: red}")) in text  # the form keeps what was typed
    project = _project(db, project_id)
    assert project.name != "Renamed"
    assert project.allowed_domains == ["acme-realty.example"]


def test_the_field_notes_are_translated(client: TestClient, world: World, admin: str) -> None:
    project_id = world.ours.project.id
    bad = {**FORM, "allowed_domains": "https://example.com/"}
    for locale, note in (("ru", "Каждая строка — имя хоста"), ("uk", "Кожен рядок — ім'я хоста")):
        client.cookies.set("lang", locale)
        page = client.get(settings(project_id) + f"?lang={locale}").text
        assert ("Разрешённые домены" if locale == "ru" else "Дозволені домени") in page
        refused = post(client, admin, settings(project_id) + f"?lang={locale}", bad)
        assert note in refused.text, locale
