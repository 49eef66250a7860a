"""/api/v1/projects/{id}/members: adding users, the role ladder and the last owner."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.projects import create_project
from ringtrail.storage.models import Organization, Project, User
from tests.conftest import PASSWORD, World
from tests.web.api.keys import project_key


def members_url(world: World, tail: str = "", project_id: int | None = None) -> str:
    return f"/api/v1/projects/{project_id or world.ours.project.id}/members{tail}"


def add(client: TestClient, world: World, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(members_url(world), headers=auth, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def colleague(db: Session, world: World, email: str, name: str = "") -> User:
    """A user of our organisation (a viewer of its second project), not yet in our project."""
    user = create_user(db, email, PASSWORD, name=name)
    organization = db.get(Organization, world.ours.organization_id)
    assert organization is not None
    second = db.scalar(select(Project).where(Project.name == "Second site"))
    if second is None:
        second = create_project(db, organization, "Second site", default_country="UA")
    set_membership(db, user, second, Role.VIEWER)
    db.commit()
    return user


def test_someone_of_the_organisation_joins_by_e_mail(
    client: TestClient, world: World, db: Session
) -> None:
    ann = colleague(db, world, "ann@acme-realty.example", name="Ann")
    member = add(
        client, world, world.ours.project_auth, email=" Ann@Acme-Realty.example ", role="marketer"
    )
    assert (member["user_id"], member["email"], member["role"], member["name"]) == (
        ann.id,
        "ann@acme-realty.example",
        "marketer",
        "Ann",
    )
    assert "password_hash" not in member and "password" not in member
    again = client.post(
        members_url(world),
        headers=world.ours.project_auth,
        json={"email": ann.email, "role": "sales"},
    )
    assert again.status_code == 409


def test_accounts_are_never_created_through_the_api(
    client: TestClient, world: World, db: Session
) -> None:
    body = {"email": "x@y.io", "role": "viewer", "name": "X", "password": "x" * 9}
    response = client.post(members_url(world), headers=world.ours.project_auth, json=body)
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "name"),
        ("body", "password"),
    }
    assert "not created through the API" in response.text
    assert db.scalar(select(User).where(User.email == "x@y.io")) is None


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
    colleague(db, world, "a@b.io")
    promote = client.post(
        members_url(world), headers=admin, json={"email": "a@b.io", "role": "owner"}
    )
    assert promote.status_code == 403
    member = add(client, world, admin, email="a@b.io", role="admin")
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
    body = {"email": "c@d.io", "role": "viewer"}
    assert client.post(members_url(world), headers=marketer, json=body).status_code == 403


def test_the_last_owner_cannot_be_removed_or_demoted(
    client: TestClient, world: World, db: Session
) -> None:
    owner_key, owner_id = world.ours.org_auth, world.ours.owner.id
    demote = client.patch(
        members_url(world, f"/{owner_id}"), headers=owner_key, json={"role": "admin"}
    )
    assert demote.status_code == 409
    assert client.delete(members_url(world, f"/{owner_id}"), headers=owner_key).status_code == 409
    colleague(db, world, "second@owner.io")
    add(client, world, owner_key, email="second@owner.io", role="owner")
    demoted = client.patch(
        members_url(world, f"/{owner_id}"), headers=owner_key, json={"role": "admin"}
    )
    assert demoted.status_code == 200
    assert demoted.json()["role"] == "admin"


def test_a_removed_member_keeps_the_account(client: TestClient, world: World, db: Session) -> None:
    colleague(db, world, "a@b.io")
    member = add(client, world, world.ours.project_auth, email="a@b.io", role="sales")
    url = members_url(world, f"/{member['user_id']}")
    assert client.delete(url, headers=world.ours.project_auth).status_code == 204
    assert client.delete(url, headers=world.ours.project_auth).status_code == 404
    assert db.get(User, member["user_id"]) is not None
    listed = client.get(members_url(world), headers=world.ours.project_auth).json()
    assert [m["email"] for m in listed] == [world.ours.owner.email]


def test_bad_roles_emails_and_unknown_fields_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    for body, field in (
        ({"email": "a@b.io", "role": "god"}, "role"),
        ({"email": "nope", "role": "viewer"}, "email"),
        ({"email": "a@b.io", "role": "viewer", "password": "short"}, "password"),
        ({"email": "a@b.io", "role": "viewer", "is_superuser": True}, "is_superuser"),
    ):
        response = client.post(members_url(world), headers=auth, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_the_outsider_never_sees_or_changes_our_members(client: TestClient, world: World) -> None:
    uid, ours, theirs = world.ours.owner.id, world.ours.project.id, world.outsider.project.id
    body = {"email": world.outsider.owner.email, "role": "viewer"}
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


def test_adding_another_organisations_user_answers_as_for_an_e_mail_nobody_has(
    client: TestClient, world: World
) -> None:
    """The answer never tells whether an e-mail has an account elsewhere, nor whose it is."""
    auth = world.ours.project_auth
    elsewhere = client.post(
        members_url(world),
        headers=auth,
        json={"email": world.outsider.owner.email, "role": "viewer"},
    )
    nowhere = client.post(
        members_url(world), headers=auth, json={"email": "nobody@nowhere.example", "role": "viewer"}
    )
    assert (elsewhere.status_code, elsewhere.json()) == (nowhere.status_code, nowhere.json())
    assert elsewhere.status_code == 422
    assert world.outsider.owner.name not in elsewhere.text
    listed = client.get(members_url(world), headers=auth).text
    assert world.outsider.owner.name not in listed and world.outsider.owner.email not in listed
