"""No body or id, however malformed, makes an API endpoint answer with a 5xx."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.api.test_members import colleague

ODD_VALUES: list[Any] = [None, True, -1, 0, 2**64, 1.5, "", "x" * 5000, "a\x00b", [], {}, "😀"]
PROJECT = "/api/v1/projects/{project_id}"


def body_fields(openapi: dict[str, Any], path: str, method: str) -> list[str]:
    """The top-level fields of an operation's JSON body, read from the OpenAPI document."""
    content = openapi["paths"][path][method]["requestBody"]["content"]
    name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return list(openapi["components"]["schemas"][name]["properties"])


@pytest.mark.parametrize(
    ("resource", "item", "valid"),
    [
        ("numbers", "number_id", {"number": "044 123 45 67"}),
        ("pools", "pool_id", {"name": "Ads", "numbers": ["044 123 45 61"]}),
        ("source-rules", "rule_id", {"name": "r", "source": "s"}),
        ("members", "user_id", {"email": "a@b.io", "role": "viewer"}),
        ("api-keys", None, {"name": "k", "role": "viewer"}),
    ],
)
def test_odd_values_in_any_field_are_never_a_server_error(
    client: TestClient,
    db: Session,
    world: World,
    resource: str,
    item: str | None,
    valid: dict[str, Any],
) -> None:
    if resource == "members":
        colleague(db, world, valid["email"])
    openapi = client.get("/openapi.json").json()
    auth = world.ours.project_auth
    url = f"/api/v1/projects/{world.ours.project.id}/{resource}"
    created = client.post(url, headers=auth, json=valid)
    assert created.status_code == 201, created.text
    calls = [("post", f"{PROJECT}/{resource}", url, valid)]
    if item is not None:
        item_id = created.json().get("id") or created.json()["user_id"]
        calls.append(("patch", f"{PROJECT}/{resource}/{{{item}}}", f"{url}/{item_id}", {}))
    for method, template, target, base in calls:
        for field in body_fields(openapi, template, method):
            for value in ODD_VALUES:
                response = client.request(method, target, headers=auth, json={**base, field: value})
                assert response.status_code < 500, (method, field, value, response.text)
        odd_bodies: list[Any] = [[], "text", 7, None]
        for body in odd_bodies:
            assert client.request(method, target, headers=auth, json=body).status_code == 422


def test_odd_values_in_any_project_field_are_never_a_server_error(
    client: TestClient, world: World
) -> None:
    openapi = client.get("/openapi.json").json()
    auth = world.ours.org_auth
    created = client.post("/api/v1/projects", headers=auth, json={"name": "Odd"})
    assert created.status_code == 201, created.text
    one = f"/api/v1/projects/{created.json()['id']}"
    calls = [
        ("post", "/api/v1/projects", "/api/v1/projects", {"name": "Odd"}),
        ("patch", f"{PROJECT}", one, {}),
    ]
    for method, template, target, base in calls:
        for field in body_fields(openapi, template, method):
            for value in ODD_VALUES:
                response = client.request(method, target, headers=auth, json={**base, field: value})
                assert response.status_code < 500, (method, field, value, response.text)


def test_a_nul_character_is_a_422_naming_the_field(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/projects", headers=world.ours.org_auth, json={"name": "a\x00b"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


@pytest.mark.parametrize("project_id", ["0", "-1", str(2**63), str(2**64), "abc"])
def test_an_impossible_project_id_is_a_422(
    client: TestClient, world: World, project_id: str
) -> None:
    for suffix in ("", "/numbers", "/pools", "/source-rules"):
        response = client.get(f"/api/v1/projects/{project_id}{suffix}", headers=world.ours.org_auth)
        assert response.status_code == 422, (suffix, response.text)


def integer_parameters(openapi: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path, name, where) of every integer path or query parameter in the API."""
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
                if "integer" in kinds and parameter["in"] in ("path", "query"):
                    found.append((method, path, parameter["name"], parameter["in"]))
    return found


def fill_path(template: str, values: dict[str, object]) -> str:
    """`template` with each `{name}` replaced by its value, or 1."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), template)


@pytest.mark.parametrize("too_big", [2**63, 2**64, 10**30])
def test_an_id_above_the_database_integer_range_is_a_422_on_every_route(
    runtime: Runtime, world: World, too_big: int
) -> None:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        openapi = client.get("/openapi.json").json()
        checked = integer_parameters(openapi)
        assert ("get", f"{PROJECT}/pools/{{pool_id}}/health", "pool_id", "path") in checked
        for method, template, name, where in checked:
            ids: dict[str, object] = {"project_id": world.ours.project.id, "provider": "twilio"}
            if where == "path":
                ids[name] = too_big
            path = fill_path(template, ids)
            params = {name: str(too_big)} if where == "query" else {}

            response = client.request(method, path, params=params, headers=world.ours.org_auth)

            assert response.status_code == 422, (method, template, name, response.text)
            assert response.json()["detail"][0]["loc"] == [where, name], response.text
