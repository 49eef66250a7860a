"""Error answers to anonymous clients: a reason and Retry-After, never the server's insides."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.dashboard.browser import page_token

# A closed local port: every connection is refused at once.
DOWN_HOST, DOWN_PORT = "127.0.0.1", 9


@pytest.fixture
def down_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"postgresql://ringtrail@{DOWN_HOST}:{DOWN_PORT}/ringtrail",
        data_dir=tmp_path,
        secret_key="test-secret-key-not-for-production",
        redis_url="",
    )
    with TestClient(create_app(bootstrap(settings))) as client:
        yield client


def assert_names_no_address(text: str) -> None:
    assert DOWN_HOST not in text
    assert f"port {DOWN_PORT}" not in text and f":{DOWN_PORT}" not in text
    assert "ringtrail@" not in text


def test_a_database_outage_answers_503_with_retry_after_and_no_database_address(
    down_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    body = {"event": "call.started", "call_id": "x", "occurred_at": "2026-01-01T00:00:00Z"}
    response = down_client.post("/hooks/v1/some-key/calls", content=json.dumps(body))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json() == {"detail": "database unavailable; retry later"}
    assert_names_no_address(response.text + json.dumps(dict(response.headers)))
    # The operator still learns why, from the log.
    assert f"{DOWN_HOST}" in caplog.text


def test_healthz_names_the_failing_service_but_not_its_address(
    down_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = down_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"] == {"database": "unavailable"}
    assert_names_no_address(response.text)
    assert f"{DOWN_HOST}" in caplog.text


def test_healthz_hides_the_redis_address_too(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ringtrail.db'}",
        data_dir=tmp_path,
        secret_key="test-secret-key-not-for-production",
        redis_url=f"redis://{DOWN_HOST}:{DOWN_PORT}/0",
    )
    with TestClient(create_app(bootstrap(settings))) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unavailable"
    assert_names_no_address(response.text)


def test_a_nul_in_the_sign_in_form_is_a_422_not_a_500(client: TestClient) -> None:
    token = page_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": "a\x00@b.example", "password": "x", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (400, 422), response.text


def test_a_nul_in_an_api_text_field_is_a_422_naming_the_reason(
    client: TestClient, world: World
) -> None:
    response = client.patch(
        f"/api/v1/projects/{world.ours.project.id}",
        json={"name": "Acme\x00Realty"},
        headers=world.ours.org_auth,
    )
    assert response.status_code == 422, response.text
    assert "NUL" in response.text


@pytest.fixture
def redis_down_client(runtime: Runtime, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test database with a Redis that refuses every connection."""
    settings = Settings(
        database_url=runtime.settings.database_url,
        data_dir=tmp_path / "redis-down",
        secret_key="test-secret-key-not-for-production",
        redis_url=f"redis://{DOWN_HOST}:{DOWN_PORT}/0",
    )
    app_runtime = bootstrap(settings)
    try:
        with TestClient(create_app(app_runtime), raise_server_exceptions=False) as client:
            yield client
    finally:
        app_runtime.close()


def test_a_redis_outage_answers_503_with_retry_after_not_a_500(
    redis_down_client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    site = f"https://{world.ours.project.allowed_domains[0]}"
    body = {"key": world.ours.project.public_key, "url": f"{site}/?utm_source=google"}
    response = redis_down_client.post(
        "/t/v1/visit", content=json.dumps(body), headers={"Origin": site}
    )
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    assert response.json() == {"detail": "service unavailable; retry later"}
    assert_names_no_address(response.text)
    # One line saying why, for the operator; no traceback.
    assert "redis unavailable" in caplog.text and "Traceback" not in caplog.text
