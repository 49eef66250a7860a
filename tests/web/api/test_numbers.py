"""/api/v1/projects/{id}/numbers: static and pool numbers, parsing, conflicts and isolation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.conftest import World
from tests.web.api.keys import project_key


def numbers_url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/numbers{tail}"


def add(client: TestClient, world: World, **body: Any) -> dict[str, Any]:
    response = client.post(numbers_url(world), headers=world.ours.project_auth, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def make_pool(client: TestClient, world: World, name: str = "Ads") -> int:
    url = f"/api/v1/projects/{world.ours.project.id}/pools"
    response = client.post(url, headers=world.ours.project_auth, json={"name": name})
    assert response.status_code == 201, response.text
    pool_id: int = response.json()["id"]
    return pool_id


def test_a_static_number_is_stored_in_e164_with_its_source(
    client: TestClient, world: World
) -> None:
    number = add(
        client,
        world,
        number="(044) 123-45-67",
        label="Flyer",
        source="flyer",
        medium="offline",
        offline_only=True,
        forward_to="067 123 4567",
    )
    assert number["e164"] == "+380441234567"
    assert number["forward_to"] == "+380671234567"
    assert (number["kind"], number["source"], number["offline_only"]) == ("static", "flyer", True)
    read = client.get(numbers_url(world, f"/{number['id']}"), headers=world.ours.org_auth)
    assert read.json() == number


def test_adding_a_number_needs_a_key(client: TestClient, world: World) -> None:
    response = client.post(numbers_url(world), json={"number": "044 123 45 67"})
    assert response.status_code == 401


def test_a_viewer_key_cannot_add_but_can_list(
    client: TestClient, world: World, db: Session
) -> None:
    viewer = project_key(db, world.ours, Role.VIEWER)
    response = client.post(numbers_url(world), headers=viewer, json={"number": "044 123 45 67"})
    assert response.status_code == 403
    assert client.get(numbers_url(world), headers=viewer).status_code == 200


def test_an_invalid_phone_is_422_naming_the_field(client: TestClient, world: World) -> None:
    for field, body in (
        ("number", {"number": "12345"}),
        ("forward_to", {"number": "044 123 45 67", "forward_to": "not a phone"}),
    ):
        response = client.post(numbers_url(world), headers=world.ours.project_auth, json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_unknown_fields_and_wrong_types_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    for body, field in (
        ({"number": "044 123 45 67", "colour": "red"}, "colour"),
        ({"number": "044 123 45 67", "kind": "dynamic"}, "kind"),
        ({"number": "044 123 45 67", "pool_id": "abc"}, "pool_id"),
        ({"number": "044 123 45 67", "pool_id": 2**70}, "pool_id"),
        ({"number": ["044 123 45 67"]}, "number"),
        ({"number": "044 123 45 67", "label": "a\x00b"}, "label"),
    ):
        response = client.post(numbers_url(world), headers=auth, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_a_number_is_never_tracked_twice_anywhere(client: TestClient, world: World) -> None:
    add(client, world, number="044 123 45 67")
    again = client.post(
        numbers_url(world), headers=world.ours.project_auth, json={"number": "+380441234567"}
    )
    assert again.status_code == 409
    theirs = f"/api/v1/projects/{world.outsider.project.id}/numbers"
    elsewhere = client.post(
        theirs, headers=world.outsider.project_auth, json={"number": "044 123 45 67"}
    )
    assert elsewhere.status_code == 409


def test_a_number_tracked_by_another_tenant_is_a_409_that_says_nothing_of_theirs(
    client: TestClient, world: World
) -> None:
    add(client, world, number="044 123 45 67")
    theirs = f"/api/v1/projects/{world.outsider.project.id}/numbers"
    elsewhere = client.post(
        theirs, headers=world.outsider.project_auth, json={"number": "044 123 45 67"}
    )
    assert elsewhere.status_code == 409
    assert elsewhere.json() == {
        "detail": "number: this number is already in use in this installation"
    }
    again = client.post(
        numbers_url(world), headers=world.ours.project_auth, json={"number": "+380441234567"}
    )
    assert again.json() == {"detail": "number: +380441234567 is already tracked in this project"}


def test_a_pool_number_needs_a_pool_of_the_same_project(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    missing = client.post(
        numbers_url(world), headers=auth, json={"number": "044 123 45 67", "kind": "pool"}
    )
    assert missing.json()["detail"][0]["loc"] == ["body", "pool_id"]
    their_pool = client.post(
        f"/api/v1/projects/{world.outsider.project.id}/pools",
        headers=world.outsider.project_auth,
        json={"name": "Theirs"},
    ).json()["id"]
    foreign = client.post(
        numbers_url(world),
        headers=auth,
        json={"number": "044 123 45 67", "kind": "pool", "pool_id": their_pool},
    )
    assert foreign.status_code == 422
    assert foreign.json()["detail"][0]["loc"] == ["body", "pool_id"]


def test_a_pool_has_at_most_one_default_number(client: TestClient, world: World) -> None:
    pool_id = make_pool(client, world)
    add(client, world, number="044 123 45 67", kind="pool", pool_id=pool_id, is_pool_default=True)
    second = client.post(
        numbers_url(world),
        headers=world.ours.project_auth,
        json={"number": "044 123 45 68", "kind": "pool", "pool_id": pool_id, "is_pool_default": 1},
    )
    assert second.status_code == 409


def test_static_only_fields_are_refused_on_pool_numbers(client: TestClient, world: World) -> None:
    pool_id = make_pool(client, world)
    for field, value in (("source", "google"), ("offline_only", True)):
        body = {"number": "044 123 45 67", "kind": "pool", "pool_id": pool_id, field: value}
        response = client.post(numbers_url(world), headers=world.ours.project_auth, json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]
    static_default = client.post(
        numbers_url(world),
        headers=world.ours.project_auth,
        json={"number": "044 123 45 67", "is_pool_default": True},
    )
    assert static_default.json()["detail"][0]["loc"] == ["body", "is_pool_default"]


def test_changing_a_static_number_into_a_pool_number_drops_its_source(
    client: TestClient, world: World
) -> None:
    pool_id = make_pool(client, world)
    number = add(client, world, number="044 123 45 67", source="flyer", offline_only=True)
    response = client.patch(
        numbers_url(world, f"/{number['id']}"),
        headers=world.ours.project_auth,
        json={"kind": "pool", "pool_id": pool_id, "label": "moved"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["pool_id"], body["label"]) == ("pool", pool_id, "moved")
    assert (body["source"], body["offline_only"]) == (None, False)


def test_patch_changes_only_what_is_sent_and_refuses_nulls(
    client: TestClient, world: World
) -> None:
    number = add(client, world, number="044 123 45 67", source="flyer", provider="twilio")
    url = numbers_url(world, f"/{number['id']}")
    auth = world.ours.project_auth
    changed = client.patch(url, headers=auth, json={"number": "044 123 45 69", "provider": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["e164"] == "+380441234569"
    assert (changed.json()["source"], changed.json()["provider"]) == ("flyer", None)
    null_kind = client.patch(url, headers=auth, json={"is_active": None})
    assert null_kind.status_code == 422
    assert null_kind.json()["detail"][0]["loc"] == ["body", "is_active"]


def test_list_filters_by_kind_and_pool(client: TestClient, world: World) -> None:
    pool_id = make_pool(client, world)
    other_pool = make_pool(client, world, "Other")
    static = add(client, world, number="044 123 45 67")
    pooled = add(client, world, number="044 123 45 68", kind="pool", pool_id=pool_id)
    add(client, world, number="044 123 45 69", kind="pool", pool_id=other_pool)
    auth = world.ours.project_auth
    by_kind = client.get(numbers_url(world), headers=auth, params={"kind": "static"}).json()
    assert [n["id"] for n in by_kind] == [static["id"]]
    by_pool = client.get(numbers_url(world), headers=auth, params={"pool_id": pool_id}).json()
    assert [n["id"] for n in by_pool] == [pooled["id"]]
    assert len(client.get(numbers_url(world), headers=auth).json()) == 3


def test_deleting_a_number_frees_it(client: TestClient, world: World) -> None:
    number = add(client, world, number="044 123 45 67")
    url = numbers_url(world, f"/{number['id']}")
    assert client.delete(url, headers=world.ours.project_auth).status_code == 204
    assert client.get(url, headers=world.ours.project_auth).status_code == 404
    add(client, world, number="044 123 45 67")


def test_the_outsider_never_sees_or_changes_our_numbers(client: TestClient, world: World) -> None:
    number = add(client, world, number="044 123 45 67")
    ours, nid = world.ours.project.id, number["id"]
    theirs = world.outsider.project.id
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(f"/api/v1/projects/{ours}/numbers", headers=auth).status_code == 404
        assert client.get(f"/api/v1/projects/{ours}/numbers/{nid}", headers=auth).status_code == 404
        assert (
            client.get(f"/api/v1/projects/{theirs}/numbers/{nid}", headers=auth).status_code == 404
        )
        assert (
            client.patch(
                f"/api/v1/projects/{theirs}/numbers/{nid}", headers=auth, json={"label": "x"}
            ).status_code
            == 404
        )
        assert (
            client.delete(f"/api/v1/projects/{theirs}/numbers/{nid}", headers=auth).status_code
            == 404
        )
        assert client.get(f"/api/v1/projects/{theirs}/numbers", headers=auth).json() == []
    kept = client.get(numbers_url(world, f"/{nid}"), headers=world.ours.project_auth).json()
    assert kept["label"] == ""
