"""/api/v1/projects/{id}/members: adding users, the role ladder and the last owner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.runtime import Runtime
from ringtrail.services.accounts import authenticate
from ringtrail.storage.models import User
from tests.conftest import PASSWORD, World
from tests.web.api.keys import project_key

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def members_url(world: World, tail: str = "", project_id: int | None = None) -> str:
    return f"/api/v1/projects/{project_id or world.ours.project.id}/members{tail}"


def add(client: TestClient, world: World, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(members_url(world), headers=auth, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_new_email_creates_a_user_who_can_sign_in(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    member = add(
        client,
        world,
        world.ours.project_auth,
        email=" Ann@Example.com ",
        role="marketer",
        name="Ann",
        password=" spaced password ",
    )
    assert (member["email"], member["role"], member["name"]) == (
        "ann@example.com",
        "marketer",
        "Ann",
    )
    assert "password_hash" not in member and "password" not in member
    with runtime.sessions() as session:
        assert authenticate(session, "ann@example.com", " spaced password ", NOW)


def test_a_new_email_without_a_password_is_422(client: TestClient, world: World) -> None:
    response = client.post(
        members_url(world),
        headers=world.ours.project_auth,
        json={"email": "x@y.io", "role": "viewer"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_an_existing_user_joins_without_a_password_change(
    client: TestClient, world: World, db: Session
) -> None:
    them = world.outsider.owner.email
    member = add(
        client, world, world.ours.project_auth, email=them, role="viewer", password="new one!!"
    )
    assert member["user_id"] == world.outsider.owner.id
    assert authenticate(db, them, PASSWORD, NOW) is not None
    again = client.post(
        members_url(world), headers=world.ours.project_auth, json={"email": them, "role": "sales"}
    )
    assert again.status_code == 409


def test_members_are_listed_without_credentials(client: TestClient, world: World) -> None:
    listed = client.get(members_url(world), headers=world.ours.project_auth).json()
    assert listed == [
        {
            "user_id": world.ours.owner.id,
            "email": world.ours.owner.email,
            "name": world.ours.owner.name,
            "role": "owner",
            "is_active": True,
            "joined_at": listed[0]["joined_at"],
        }
    ]


def test_nobody_grants_a_role_stronger_than_their_own(
    client: TestClient, world: World, db: Session
) -> None:
    admin = world.ours.project_auth
    promote = client.post(
        members_url(world),
        headers=admin,
        json={"email": "a@b.io", "role": "owner", "password": "x" * 9},
    )
    assert promote.status_code == 403
    member = add(client, world, admin, email="a@b.io", role="admin", password="x" * 9)
    up = client.patch(
        members_url(world, f"/{member['user_id']}"), headers=admin, json={"role": "owner"}
    )
    assert up.status_code == 403
    owner_id = world.ours.owner.id
    touch_owner = client.patch(
        members_url(world, f"/{owner_id}"), headers=admin, json={"role": "viewer"}
    )
    assert touch_owner.status_code == 403
    assert client.delete(members_url(world, f"/{owner_id}"), headers=admin).status_code == 403
    marketer = project_key(db, world.ours, Role.MARKETER)
    body = {"email": "c@d.io", "role": "viewer", "password": "x" * 9}
    assert client.post(members_url(world), headers=marketer, json=body).status_code == 403


def test_the_last_owner_cannot_be_removed_or_demoted(client: TestClient, world: World) -> None:
    owner_key, owner_id = world.ours.org_auth, world.ours.owner.id
    demote = client.patch(
        members_url(world, f"/{owner_id}"), headers=owner_key, json={"role": "admin"}
    )
    assert demote.status_code == 409
    assert client.delete(members_url(world, f"/{owner_id}"), headers=owner_key).status_code == 409
    add(client, world, owner_key, email="second@owner.io", role="owner", password="x" * 9)
    demoted = client.patch(
        members_url(world, f"/{owner_id}"), headers=owner_key, json={"role": "admin"}
    )
    assert demoted.status_code == 200
    assert demoted.json()["role"] == "admin"


def test_a_removed_member_keeps_the_account(client: TestClient, world: World, db: Session) -> None:
    member = add(
        client, world, world.ours.project_auth, email="a@b.io", role="sales", password="x" * 9
    )
    url = members_url(world, f"/{member['user_id']}")
    assert client.delete(url, headers=world.ours.project_auth).status_code == 204
    assert client.delete(url, headers=world.ours.project_auth).status_code == 404
    assert db.get(User, member["user_id"]) is not None
    listed = client.get(members_url(world), headers=world.ours.project_auth).json()
    assert [m["email"] for m in listed] == [world.ours.owner.email]


def test_bad_roles_emails_and_unknown_fields_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    for body, field in (
        ({"email": "a@b.io", "role": "god", "password": "x" * 9}, "role"),
        ({"email": "nope", "role": "viewer", "password": "x" * 9}, "email"),
        ({"email": "a@b.io", "role": "viewer", "password": "short"}, "password"),
        ({"email": "a@b.io", "role": "viewer", "is_superuser": True}, "is_superuser"),
    ):
        response = client.post(members_url(world), headers=auth, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_the_outsider_never_sees_or_changes_our_members(client: TestClient, world: World) -> None:
    uid, ours, theirs = world.ours.owner.id, world.ours.project.id, world.outsider.project.id
    body = {"email": "spy@x.io", "role": "viewer", "password": "x" * 9}
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(members_url(world, project_id=ours), headers=auth).status_code == 404
        assert (
            client.post(members_url(world, project_id=ours), headers=auth, json=body).status_code
            == 404
        )
        assert (
            client.patch(
                members_url(world, f"/{uid}", ours), headers=auth, json={"role": "viewer"}
            ).status_code
            == 404
        )
        assert (
            client.patch(
                members_url(world, f"/{uid}", theirs), headers=auth, json={"role": "viewer"}
            ).status_code
            == 404
        )
        assert client.delete(members_url(world, f"/{uid}", theirs), headers=auth).status_code == 404
    listed = client.get(members_url(world), headers=world.ours.project_auth).json()
    assert [(m["user_id"], m["role"]) for m in listed] == [(uid, "owner")]
