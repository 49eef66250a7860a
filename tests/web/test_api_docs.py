"""/docs: Swagger UI served from the package itself, so no page loads anything from elsewhere."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

EXTERNAL_URL = re.compile(r"https?://(?!testserver[/:\"'])[^\s\"'<>]+")


def test_the_api_docs_page_names_no_external_url(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert EXTERNAL_URL.findall(page.text) == []


def test_the_docs_page_assets_are_served_by_the_app(client: TestClient) -> None:
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/openapi.json").status_code == 200


def test_redoc_which_loads_from_a_cdn_is_not_served(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
