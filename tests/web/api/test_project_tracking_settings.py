"""PATCH /api/v1/projects/{id}: every tracking setting the docs name, checked and served."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from ringtrail.services.tracking_config import load_tracking_config
from ringtrail.storage.models import Project
from tests.conftest import World


def _patch(client: TestClient, world: World, body: dict[str, object]) -> Response:
    project_id = world.ours.project.id
    return client.patch(f"/api/v1/projects/{project_id}", headers=world.ours.org_auth, json=body)


def test_tracking_settings_are_stored_normalised_and_served_to_the_script(
    client: TestClient, world: World, db: Session
) -> None:
    response = _patch(
        client,
        world,
        {
            "default_country": "UA",
            "main_number": "(044) 123-45-67",
            "replace_numbers": ["044 765 43 21", "+380447654321", "+1 212 555 0123"],
            "swap_selectors": [" .phone ", "#footer a[href^='tel:']"],
            "allowed_domains": ["Bücher.Example", "www.example.com."],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["main_number"] == "+380441234567"
    assert body["replace_numbers"] == ["+380447654321", "+12125550123"]
    assert body["swap_selectors"] == [".phone", "#footer a[href^='tel:']"]
    assert body["allowed_domains"] == ["www.example.com", "xn--bcher-kva.example"]
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    db.refresh(project)
    config = load_tracking_config(db, project.public_key)
    assert config is not None
    assert config.originals == ("+380441234567", "+380447654321", "+12125550123")
    assert config.selectors == (".phone", "#footer a[href^='tel:']")
    assert config.allows_host("shop.xn--bcher-kva.example")


def test_each_bad_tracking_setting_is_a_422_naming_its_field(
    client: TestClient, world: World
) -> None:
    bad = {
        "replace_numbers": ["12345"],
        "swap_selectors": [".a {color: red}"],
        "allowed_domains": ["https://example.com/page"],
        "main_number": "not a phone",
    }
    for field, value in bad.items():
        response = _patch(client, world, {field: value})
        assert response.status_code == 422, (field, response.text)
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", field]
    too_many = _patch(client, world, {"swap_selectors": [f".s{i}" for i in range(21)]})
    assert too_many.status_code == 422


def test_null_clears_the_main_number_and_empty_lists_clear_the_others(
    client: TestClient, world: World
) -> None:
    _patch(client, world, {"main_number": "+380441234567", "swap_selectors": [".phone"]})
    response = _patch(client, world, {"main_number": None, "swap_selectors": []})
    assert response.status_code == 200
    body = response.json()
    assert body["main_number"] is None
    assert body["swap_selectors"] == []
