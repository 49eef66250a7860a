"""The project settings page sets when a visitor takes a pool number."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.storage.models import Project
from tests.conftest import World
from tests.web.dashboard.test_settings_pages import admin, post, settings
from tests.web.dashboard.test_settings_tracking_fields import FORM

__all__ = ["admin"]


def test_number_allocation_is_chosen_on_the_settings_page(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    page = client.get(settings(project_id)).text
    assert 'name="number_allocation"' in page
    assert '<option value="visit" selected>' in page

    saved = post(client, admin, settings(project_id), {**FORM, "number_allocation": "intent"})

    assert saved.status_code == 303, saved.text
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None and project.number_allocation == "intent"
    assert '<option value="intent" selected>' in client.get(settings(project_id)).text
    # A save without the field (another form of the page) leaves it as it is.
    post(client, admin, settings(project_id), FORM)
    db.expire_all()
    assert db.get(Project, project_id).number_allocation == "intent"  # type: ignore[union-attr]
    refused = post(client, admin, settings(project_id), {**FORM, "number_allocation": "later"})
    assert refused.status_code != 303
    assert "Choose when a visitor takes a pool number." in refused.text


def test_the_page_in_russian_and_ukrainian_names_the_choice(
    client: TestClient, world: World, admin: str
) -> None:
    for locale, words in (("ru", "номер пула"), ("uk", "номер пулу")):
        page = client.get(settings(world.ours.project.id) + f"?lang={locale}").text
        assert words in page, locale
