"""`number_allocation` through the projects API: `visit` by default, `intent` settable, shown
with the tracking settings and handed to the tracking script's configuration."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.services.tracking_config import load_tracking_config
from ringtrail.storage.models import Project
from tests.conftest import World


def test_number_allocation_defaults_to_visit_and_can_be_set_to_intent(
    client: TestClient, world: World, db: Session
) -> None:
    url = f"/api/v1/projects/{world.ours.project.id}"
    headers = world.ours.org_auth
    assert client.get(url, headers=headers).json()["number_allocation"] == "visit"

    changed = client.patch(url, headers=headers, json={"number_allocation": "intent"})

    assert changed.status_code == 200, changed.text
    assert changed.json()["number_allocation"] == "intent"
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None and project.extra["number_allocation"] == "intent"
    config = load_tracking_config(db, project.public_key)
    assert config is not None and config.number_allocation == "intent"
    refused = client.patch(url, headers=headers, json={"number_allocation": "later"})
    assert refused.status_code == 422
    back = client.patch(url, headers=headers, json={"number_allocation": "visit"})
    assert back.json()["number_allocation"] == "visit"


def test_a_new_project_allocates_at_the_visit_start(client: TestClient, world: World) -> None:
    created = client.post(
        "/api/v1/projects", headers=world.ours.org_auth, json={"name": "Second site"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["number_allocation"] == "visit"
