"""The OpenAPI document and docs/api.md list every tracking, member and API-key endpoint."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

PROJECT = "/api/v1/projects/{project_id}"
EXPECTED = {
    f"{PROJECT}/numbers": {"get", "post"},
    f"{PROJECT}/numbers/{{number_id}}": {"get", "patch", "delete"},
    f"{PROJECT}/pools": {"get", "post"},
    f"{PROJECT}/pools/{{pool_id}}": {"get", "patch", "delete"},
    f"{PROJECT}/source-rules": {"get", "post"},
    f"{PROJECT}/source-rules/{{rule_id}}": {"get", "patch", "delete"},
    f"{PROJECT}/members": {"get", "post"},
    f"{PROJECT}/members/{{user_id}}": {"patch", "delete"},
    f"{PROJECT}/api-keys": {"get", "post"},
    f"{PROJECT}/api-keys/{{key_id}}": {"delete"},
    f"{PROJECT}/bots": {"get", "patch"},
}


def test_openapi_lists_every_resource_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    listed = {
        path: set(paths.get(path, {})) & {"get", "post", "patch", "delete"} for path in EXPECTED
    }
    assert listed == EXPECTED


def test_every_resource_endpoint_requires_the_bearer_key(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, methods in EXPECTED.items():
        for method in methods:
            assert paths[path][method]["security"] == [{"HTTPBearer": []}], (path, method)


def test_the_api_reference_documents_every_resource_endpoint() -> None:
    reference = (Path(__file__).parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [
        f"{method.upper()} {path}"
        for path, methods in EXPECTED.items()
        for method in sorted(methods)
        if f"`{method.upper()} {path}`" not in reference
    ]
    assert missing == []
