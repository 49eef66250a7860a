"""/api/v1/projects: creation, authentication, tenant isolation and input validation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_creating_a_project_needs_an_api_key(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"name": "X"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_key_is_refused(client: TestClient, world: World) -> None:
    forged = world.ours.org_key[:-4] + "AAAA"
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_an_org_key_creates_a_project(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/projects",
        headers=world.ours.org_auth,
        json={
            "name": "New site",
            "timezone": "Europe/Kyiv",
            "currency": "uah",
            "default_country": "ua",
            "main_number": "(044) 123-45-67",
            "allowed_domains": ["Example.COM", "example.com"],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["currency"] == "UAH"
    assert body["default_country"] == "UA"
    assert body["main_number"] == "+380441234567"
    assert body["allowed_domains"] == ["example.com"]
    listed = client.get("/api/v1/projects", headers=world.ours.org_auth).json()
    assert [p["name"] for p in listed] == ["Acme Realty site", "New site"]


def test_a_project_key_cannot_create_projects(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/projects", headers=world.ours.project_auth, json={"name": "X"})
    assert response.status_code == 403


def test_another_organisations_project_is_not_found(client: TestClient, world: World) -> None:
    theirs = world.outsider.project.id
    for auth in (world.ours.org_auth, world.ours.project_auth):
        assert client.get(f"/api/v1/projects/{theirs}", headers=auth).status_code == 404
        assert (
            client.patch(f"/api/v1/projects/{theirs}", headers=auth, json={"name": "x"}).status_code
            == 404
        )
    listed = client.get("/api/v1/projects", headers=world.ours.org_auth).json()
    assert theirs not in {p["id"] for p in listed}


def test_unknown_fields_and_wrong_types_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.org_auth
    unknown = client.post("/api/v1/projects", headers=auth, json={"name": "X", "colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "colour"]
    wrong = client.post("/api/v1/projects", headers=auth, json={"name": "X", "grace_minutes": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "grace_minutes"]
    garbage = client.post(
        "/api/v1/projects",
        headers={**auth, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert garbage.status_code == 422


def test_an_invalid_main_number_is_422_naming_the_field(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/projects",
        headers=world.ours.org_auth,
        json={"name": "X", "default_country": "UA", "main_number": "12345"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "main_number"]


def test_bad_timezone_and_country_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.org_auth
    tz = client.post("/api/v1/projects", headers=auth, json={"name": "X", "timezone": "Mars/Base"})
    assert tz.json()["detail"][0]["loc"] == ["body", "timezone"]
    country = client.post(
        "/api/v1/projects", headers=auth, json={"name": "X", "default_country": "QQ"}
    )
    assert country.json()["detail"][0]["loc"] == ["body", "default_country"]


def test_owner_deletes_a_project(client: TestClient, world: World) -> None:
    pid = world.ours.project.id
    assert (
        client.delete(f"/api/v1/projects/{pid}", headers=world.ours.project_auth).status_code == 403
    )
    assert client.delete(f"/api/v1/projects/{pid}", headers=world.ours.org_auth).status_code == 204
    assert client.get(f"/api/v1/projects/{pid}", headers=world.ours.org_auth).status_code == 404
