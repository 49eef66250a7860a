"""/api/v1/projects/{id}/api-keys: secrets shown once, no stronger keys, revocation is final."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.storage.models import ApiKey
from tests.conftest import World
from tests.web.api.keys import project_key


def keys_url(world: World, tail: str = "", project_id: int | None = None) -> str:
    return f"/api/v1/projects/{project_id or world.ours.project.id}/api-keys{tail}"


def issue(client: TestClient, world: World, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(keys_url(world), headers=auth, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_secret_is_shown_once_and_stored_hashed(
    client: TestClient, world: World, db: Session
) -> None:
    key = issue(client, world, world.ours.project_auth, name="CRM", role="marketer")
    assert key["secret"].startswith("rt_")
    assert (key["role"], key["project_id"]) == ("marketer", world.ours.project.id)
    stored = db.get(ApiKey, key["id"])
    assert stored is not None and key["secret"] not in (stored.key_hash, stored.prefix)
    listed = client.get(keys_url(world), headers=world.ours.project_auth).json()
    assert key["id"] in {k["id"] for k in listed}
    assert all("secret" not in k and "key_hash" not in k for k in listed)


def test_a_new_key_reaches_its_project_only(client: TestClient, world: World) -> None:
    key = issue(client, world, world.ours.org_auth, name="CRM", role="viewer")
    auth = {"Authorization": f"Bearer {key['secret']}"}
    assert (
        client.get(f"/api/v1/projects/{world.ours.project.id}/numbers", headers=auth).status_code
        == 200
    )
    assert client.get("/api/v1/projects", headers=auth).json()[0]["id"] == world.ours.project.id
    theirs = f"/api/v1/projects/{world.outsider.project.id}/numbers"
    assert client.get(theirs, headers=auth).status_code == 404


def test_a_key_cannot_create_a_stronger_key(client: TestClient, world: World, db: Session) -> None:
    admin = world.ours.project_auth
    stronger = client.post(keys_url(world), headers=admin, json={"name": "x", "role": "owner"})
    assert stronger.status_code == 403
    assert issue(client, world, admin, name="x", role="admin")["role"] == "admin"
    assert issue(client, world, world.ours.org_auth, name="y", role="owner")["role"] == "owner"
    marketer = project_key(db, world.ours, Role.MARKETER)
    weak = client.post(keys_url(world), headers=marketer, json={"name": "z", "role": "viewer"})
    assert weak.status_code == 403
    assert client.get(keys_url(world), headers=marketer).status_code == 403


def test_a_revoked_key_gets_401_and_stays_listed(client: TestClient, world: World) -> None:
    key = issue(client, world, world.ours.project_auth, name="CRM", role="viewer")
    auth = {"Authorization": f"Bearer {key['secret']}"}
    numbers = f"/api/v1/projects/{world.ours.project.id}/numbers"
    assert client.get(numbers, headers=auth).status_code == 200
    url = keys_url(world, f"/{key['id']}")
    assert client.delete(url, headers=world.ours.project_auth).status_code == 204
    assert client.get(numbers, headers=auth).status_code == 401
    listed = {
        k["id"]: k for k in client.get(keys_url(world), headers=world.ours.project_auth).json()
    }
    assert listed[key["id"]]["revoked_at"] is not None


def test_an_admin_key_cannot_revoke_an_owner_key(client: TestClient, world: World) -> None:
    owner_key = issue(client, world, world.ours.org_auth, name="root", role="owner")
    url = keys_url(world, f"/{owner_key['id']}")
    assert client.delete(url, headers=world.ours.project_auth).status_code == 403
    assert client.delete(url, headers=world.ours.org_auth).status_code == 204


def test_org_wide_keys_are_not_managed_here(client: TestClient, world: World, db: Session) -> None:
    org_key_ids = list(db.scalars(select(ApiKey.id).where(ApiKey.project_id.is_(None))))
    for key_id in org_key_ids:
        assert (
            client.delete(keys_url(world, f"/{key_id}"), headers=world.ours.org_auth).status_code
            == 404
        )
    assert client.get("/api/v1/projects", headers=world.ours.org_auth).status_code == 200


def test_bad_bodies_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    for body, field in (
        ({"name": "x", "role": "root"}, "role"),
        ({"name": "", "role": "viewer"}, "name"),
        ({"name": "x", "role": "viewer", "project_id": 1}, "project_id"),
        ({"role": "viewer"}, "name"),
    ):
        response = client.post(keys_url(world), headers=auth, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_the_outsider_never_sees_or_revokes_our_keys(client: TestClient, world: World) -> None:
    kid = issue(client, world, world.ours.project_auth, name="CRM", role="viewer")["id"]
    ours, theirs = world.ours.project.id, world.outsider.project.id
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(keys_url(world, project_id=ours), headers=auth).status_code == 404
        assert (
            client.post(
                keys_url(world, project_id=ours), headers=auth, json={"name": "x", "role": "viewer"}
            ).status_code
            == 404
        )
        assert client.delete(keys_url(world, f"/{kid}", ours), headers=auth).status_code == 404
        assert client.delete(keys_url(world, f"/{kid}", theirs), headers=auth).status_code == 404
        assert kid not in {
            k["id"] for k in client.get(keys_url(world, project_id=theirs), headers=auth).json()
        }
    listed = {
        k["id"]: k for k in client.get(keys_url(world), headers=world.ours.project_auth).json()
    }
    assert listed[kid]["revoked_at"] is None
