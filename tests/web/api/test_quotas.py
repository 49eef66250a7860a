"""/api/v1: creating a project or a key past the organisation's quota is a 409 with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ringtrail.settings import Settings
from tests.conftest import World


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
        max_projects_per_organization=2,
        max_api_keys_per_organization=3,
    )


def test_a_project_over_the_quota_is_refused_with_the_reason(
    client: TestClient, world: World
) -> None:
    second = client.post("/api/v1/projects", headers=world.ours.org_auth, json={"name": "Two"})
    assert second.status_code == 201, second.text
    third = client.post("/api/v1/projects", headers=world.ours.org_auth, json={"name": "Three"})
    assert third.status_code == 409
    assert "limit of 2 projects" in third.json()["detail"]


def test_a_key_over_the_quota_is_refused_with_the_reason(client: TestClient, world: World) -> None:
    url = f"/api/v1/projects/{world.ours.project.id}/api-keys"
    body = {"name": "CRM", "role": "viewer"}
    assert client.post(url, headers=world.ours.org_auth, json=body).status_code == 201
    refused = client.post(url, headers=world.ours.org_auth, json=body)
    assert refused.status_code == 409
    assert "limit of 3 API keys" in refused.json()["detail"]
    # the other organisation's keys are counted apart
    theirs = f"/api/v1/projects/{world.outsider.project.id}/api-keys"
    assert client.post(theirs, headers=world.outsider.org_auth, json=body).status_code == 201
