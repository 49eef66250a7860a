"""GET /healthz: 200 when every configured service answers, 503 naming the one that does not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ringtrail.runtime import bootstrap
from ringtrail.settings import Settings
from ringtrail.web.app import create_app


def test_healthy_database_gives_200(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


def test_redis_is_checked_when_configured(settings: Settings, redis_url: str) -> None:
    runtime = bootstrap(settings.model_copy(update={"redis_url": redis_url}))
    with TestClient(create_app(runtime)) as client:
        body = client.get("/healthz").json()
    assert body["checks"] == {"database": "ok", "redis": "ok"}


def test_unreachable_database_gives_503_naming_it(tmp_path: object) -> None:
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1:1/none",
        secret_key="test-secret-key-not-for-production",
        redis_url="",
    )
    with TestClient(create_app(bootstrap(settings))) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_unreachable_redis_gives_503_naming_it(settings: Settings) -> None:
    runtime = bootstrap(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    with TestClient(create_app(runtime)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]


def test_a_served_app_freezes_what_lives_as_long_as_the_process(settings: Settings) -> None:
    import gc

    gc.unfreeze()
    try:
        with TestClient(create_app(bootstrap(settings), freeze_gc=True)) as client:
            assert gc.get_freeze_count() > 0
            assert client.get("/healthz").status_code == 200
    finally:
        gc.unfreeze()
