"""/api/v1/projects/{id}/pools: pools with their numbers in one call, all or nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.conftest import World
from tests.web.api.keys import project_key

NUMBERS = ["044 123 45 61", "044 123 45 62", "+380441234563"]


def pools_url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/pools{tail}"


def create(client: TestClient, world: World, **body: Any) -> dict[str, Any]:
    response = client.post(pools_url(world), headers=world.ours.project_auth, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_pool_is_created_with_its_numbers_and_default(client: TestClient, world: World) -> None:
    pool = create(client, world, name="Google Ads", numbers=NUMBERS, default_number="044 123 45 60")
    assert (pool["numbers_count"], pool["default_number"]) == (4, "+380441234560")
    numbers = client.get(
        f"/api/v1/projects/{world.ours.project.id}/numbers",
        headers=world.ours.project_auth,
        params={"pool_id": pool["id"]},
    ).json()
    assert sorted(n["e164"] for n in numbers) == [f"+38044123456{i}" for i in range(4)]
    assert {n["kind"] for n in numbers} == {"pool"}
    assert [n["e164"] for n in numbers if n["is_pool_default"]] == ["+380441234560"]


def test_a_default_number_from_the_list_is_not_added_twice(
    client: TestClient, world: World
) -> None:
    pool = create(client, world, name="Ads", numbers=NUMBERS, default_number="+380441234562")
    assert (pool["numbers_count"], pool["default_number"]) == (3, "+380441234562")


def test_one_bad_number_names_its_index_and_creates_nothing(
    client: TestClient, world: World
) -> None:
    auth = world.ours.project_auth
    body = {"name": "Ads", "numbers": [NUMBERS[0], NUMBERS[1], "12345"]}
    response = client.post(pools_url(world), headers=auth, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "numbers.2"]
    bad_default = client.post(
        pools_url(world), headers=auth, json={"name": "Ads", "default_number": "x"}
    )
    assert bad_default.json()["detail"][0]["loc"] == ["body", "default_number"]
    assert client.get(pools_url(world), headers=auth).json() == []
    numbers_url = f"/api/v1/projects/{world.ours.project.id}/numbers"
    assert client.get(numbers_url, headers=auth).json() == []


def test_a_number_listed_twice_or_tracked_elsewhere_creates_nothing(
    client: TestClient, world: World
) -> None:
    auth = world.ours.project_auth
    twice = client.post(
        pools_url(world), headers=auth, json={"name": "A", "numbers": [NUMBERS[0], NUMBERS[0]]}
    )
    assert twice.json()["detail"][0]["loc"] == ["body", "numbers.1"]
    create(client, world, name="First", numbers=[NUMBERS[0]])
    taken = client.post(pools_url(world), headers=auth, json={"name": "Second", "numbers": NUMBERS})
    assert taken.status_code == 409
    assert [p["name"] for p in client.get(pools_url(world), headers=auth).json()] == ["First"]


def test_a_pool_number_tracked_by_another_tenant_says_nothing_of_theirs(
    client: TestClient, world: World
) -> None:
    create(client, world, name="First", numbers=[NUMBERS[0]])
    theirs = f"/api/v1/projects/{world.outsider.project.id}/pools"
    taken = client.post(
        theirs, headers=world.outsider.project_auth, json={"name": "Mine", "numbers": NUMBERS}
    )
    assert taken.status_code == 409
    assert taken.json()["detail"].endswith(": this number is already in use in this installation")


def test_creating_a_pool_needs_a_key_and_a_strong_enough_role(
    client: TestClient, world: World, db: Session
) -> None:
    assert client.post(pools_url(world), json={"name": "Ads"}).status_code == 401
    viewer = project_key(db, world.ours, Role.VIEWER)
    assert client.post(pools_url(world), headers=viewer, json={"name": "Ads"}).status_code == 403
    marketer = project_key(db, world.ours, Role.MARKETER)
    assert client.post(pools_url(world), headers=marketer, json={"name": "Ads"}).status_code == 201


def test_unknown_fields_and_wrong_types_are_422(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    for body, loc in (
        ({"name": "A", "size": 3}, ["body", "size"]),
        ({"name": "A", "grace_minutes": -1}, ["body", "grace_minutes"]),
        ({"name": "A", "numbers": "044 123 45 61"}, ["body", "numbers"]),
        ({"name": "A", "numbers": [5]}, ["body", "numbers", 0]),
        ({"name": ""}, ["body", "name"]),
    ):
        response = client.post(pools_url(world), headers=auth, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc


def test_patch_changes_hold_times_and_null_means_project_default(
    client: TestClient, world: World
) -> None:
    pool = create(client, world, name="Ads", grace_minutes=5)
    url = pools_url(world, f"/{pool['id']}")
    auth = world.ours.project_auth
    changed = client.patch(url, headers=auth, json={"grace_minutes": None, "cooldown_minutes": 9})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["grace_minutes"], changed.json()["cooldown_minutes"]) == (None, 9)
    assert changed.json()["name"] == "Ads"
    assert client.patch(url, headers=auth, json={"name": None}).status_code == 422


def test_a_pool_with_numbers_cannot_be_deleted(client: TestClient, world: World) -> None:
    pool = create(client, world, name="Ads", numbers=[NUMBERS[0]])
    empty = create(client, world, name="Empty")
    auth = world.ours.project_auth
    assert client.delete(pools_url(world, f"/{pool['id']}"), headers=auth).status_code == 409
    assert client.delete(pools_url(world, f"/{empty['id']}"), headers=auth).status_code == 204
    assert client.get(pools_url(world, f"/{empty['id']}"), headers=auth).status_code == 404


def test_the_outsider_never_sees_or_changes_our_pools(client: TestClient, world: World) -> None:
    pool = create(client, world, name="Ads", numbers=[NUMBERS[0]])
    ours, pid, theirs = world.ours.project.id, pool["id"], world.outsider.project.id
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(f"/api/v1/projects/{ours}/pools", headers=auth).status_code == 404
        assert (
            client.post(
                f"/api/v1/projects/{ours}/pools", headers=auth, json={"name": "x"}
            ).status_code
            == 404
        )
        assert client.get(f"/api/v1/projects/{theirs}/pools/{pid}", headers=auth).status_code == 404
        assert (
            client.patch(
                f"/api/v1/projects/{theirs}/pools/{pid}", headers=auth, json={"name": "x"}
            ).status_code
            == 404
        )
        assert (
            client.delete(f"/api/v1/projects/{theirs}/pools/{pid}", headers=auth).status_code == 404
        )
        assert client.get(f"/api/v1/projects/{theirs}/pools", headers=auth).json() == []
    kept = client.get(pools_url(world, f"/{pid}"), headers=world.ours.project_auth).json()
    assert (kept["name"], kept["numbers_count"]) == ("Ads", 1)
