"""/api/v1/projects/{id}/pools: a pool that no switched-on rule shows says so in every answer."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World


def _url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}{tail}"


def _codes(pool: dict[str, Any]) -> list[str]:
    return [warning["code"] for warning in pool["warnings"]]


def test_a_pool_without_a_rule_warns_and_names_the_catch_all_fix(
    client: TestClient, world: World
) -> None:
    auth = world.ours.project_auth
    created = client.post(
        _url(world, "/pools"), headers=auth, json={"name": "Ads", "numbers": ["+380441111111"]}
    )
    assert created.status_code == 201, created.text
    pool = created.json()
    assert _codes(pool) == ["no_rule"]
    assert "catch-all" in pool["warnings"][0]["message"]
    assert _codes(client.get(_url(world, f"/pools/{pool['id']}"), headers=auth).json()) == [
        "no_rule"
    ]
    [listed] = client.get(_url(world, "/pools"), headers=auth).json()
    assert _codes(listed) == ["no_rule"]

    rule = client.post(
        _url(world, "/source-rules"),
        headers=auth,
        json={"name": "Every visit", "priority": 1000, "pool_id": pool["id"], "is_active": False},
    )
    assert rule.status_code == 201, rule.text
    [listed] = client.get(_url(world, "/pools"), headers=auth).json()
    assert _codes(listed) == ["no_rule"], "a switched-off rule shows nothing"

    client.patch(
        _url(world, f"/source-rules/{rule.json()['id']}"), headers=auth, json={"is_active": True}
    )
    [listed] = client.get(_url(world, "/pools"), headers=auth).json()
    assert listed["warnings"] == []


def test_an_empty_pool_says_it_has_no_numbers(client: TestClient, world: World) -> None:
    created = client.post(
        _url(world, "/pools"), headers=world.ours.project_auth, json={"name": "Empty"}
    )
    assert _codes(created.json()) == ["no_rule", "no_numbers"]
