"""GET /metrics: only for the metrics token, and every family the operator's alerts need."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.monitoring import OperationsSnapshot
from ringtrail.services.pools import create_pool
from ringtrail.settings import Settings
from ringtrail.storage.models import NumberLease, OutboundDelivery, PoolOverflow, TrackingNumber
from ringtrail.storage.models.base import utcnow
from ringtrail.web import metrics
from ringtrail.web.app import create_app
from ringtrail.web.metrics import STATE_TTL_SECONDS, StateReader, render
from tests.conftest import World
from tests.recordings.rows import add_call, add_recording

TOKEN = "metrics-token-for-the-tests-only-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with a metrics token."""
    return settings.model_copy(update={"metrics_token": TOKEN})


def scrape(client: TestClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The families of one scrape: name -> [(labels, value)], sample names as written."""
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: list[tuple[dict[str, str], float]], **labels: str) -> float:
    return sum(v for found, v in samples if labels.items() <= found.items())


def test_metrics_do_not_exist_without_a_token_setting(runtime: Runtime) -> None:
    runtime.settings.metrics_token = ""
    with TestClient(create_app(runtime)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers=BEARER).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer not-the-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"],
)
def test_metrics_without_the_token_are_refused(
    client: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "ringtrail_" not in response.text


def test_requests_are_counted_by_route_template_and_status_class(
    client: TestClient, world: World
) -> None:
    before = scrape(client)
    project = world.ours.project
    for _ in range(3):
        assert client.get(f"/api/v1/projects/{project.id}", headers=world.ours.org_auth).is_success
    assert client.get(f"/api/v1/projects/{project.id}").status_code == 401
    assert client.get("/no/such/page/12345").status_code == 404
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after[name], **labels) - value(before.get(name, []), **labels)

    route = "/api/v1/projects/{project_id}"
    assert grew("ringtrail_http_requests_total", route=route, method="GET", status="2xx") == 3
    assert grew("ringtrail_http_requests_total", route=route, status="4xx") == 1
    assert grew("ringtrail_http_requests_total", route="unmatched", status="4xx") == 1
    assert grew("ringtrail_http_request_duration_seconds_count", route=route, status="2xx") == 3
    routes = {labels["route"] for labels, _ in after["ringtrail_http_requests_total"]}
    assert not any(f"/{project.id}" in route or "/no/such" in route for route in routes)


def test_a_scrape_reads_pools_queues_failures_and_the_database(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    pool = create_pool(db, project, {"name": "Ads"}, numbers=["044 123 45 61", "044 123 45 62"])
    db.flush()
    held = db.query(TrackingNumber).filter_by(pool_id=pool.id).first()
    assert held is not None
    now = utcnow()
    db.add(
        NumberLease(
            project_id=project.id,
            pool_id=pool.id,
            number_id=held.id,
            leased_at=now,
            last_heartbeat_at=now,
            hold_until=now + timedelta(minutes=10),
        )
    )
    db.add(PoolOverflow(pool_id=pool.id, hour_start=now.replace(minute=0, second=0), count=4))
    call = add_call(db, project)
    add_recording(db, call, next_attempt_at=now - timedelta(minutes=5))
    add_recording(db, call, status="failed", next_attempt_at=None)
    db.add(
        OutboundDelivery(
            project_id=project.id,
            destination="ga4",
            subject_kind="call",
            subject_id=call.id,
            event_name="call",
            status="failed",
        )
    )
    db.commit()

    samples = scrape(client)
    pool_labels = {"project_id": str(project.id), "pool_id": str(pool.id)}
    assert value(samples["ringtrail_database_up"]) == 1
    assert value(samples["ringtrail_pool_numbers"], **pool_labels) == 2
    assert value(samples["ringtrail_pool_numbers_held"], **pool_labels) == 1
    assert value(samples["ringtrail_pool_overflows_this_hour"], **pool_labels) == 4
    assert value(samples["ringtrail_pool_overflows_last_24h"], **pool_labels) == 4
    assert value(samples["ringtrail_job_queue_depth"], queue="recording_fetch") == 1
    oldest = value(samples["ringtrail_job_queue_oldest_age_seconds"], queue="recording_fetch")
    assert 290 < oldest < 3600
    assert {labels["queue"] for labels, _ in samples["ringtrail_job_queue_depth"]} == {
        "recording_fetch",
        "outbound_delivery",
        "report_rollup",
    }
    assert value(samples["ringtrail_failed_jobs"], queue="recording_fetch") == 1
    assert value(samples["ringtrail_failed_jobs"], queue="outbound_delivery") == 1
    assert "ringtrail_redis_up" not in samples  # no Redis configured


def test_redis_is_reported_up_when_configured(runtime: Runtime, redis_url: str) -> None:
    runtime.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    assert "ringtrail_redis_up 1.0" in render(StateReader(runtime)).decode()


def test_a_database_that_does_not_answer_is_reported_down_not_a_failed_scrape(
    settings: Settings,
) -> None:
    down = bootstrap(
        settings.model_copy(update={"database_url": "postgresql://nobody@127.0.0.1:9/none"})
    )
    try:
        text = render(StateReader(down)).decode()
    finally:
        down.close()
    assert "ringtrail_database_up 0.0" in text
    assert "ringtrail_pool_numbers" not in text


def test_state_is_read_at_most_once_per_interval(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[datetime] = []

    def counted(engine: object, now: datetime) -> OperationsSnapshot:
        reads.append(now)
        return OperationsSnapshot(pools=(), queues=())

    monkeypatch.setattr(metrics, "read_operations", counted)
    moments = iter([0.0, 1.0, STATE_TTL_SECONDS - 1, STATE_TTL_SECONDS + 1])
    reader = StateReader(runtime, clock=lambda: next(moments))
    for _ in range(3):
        reader.operations()
    assert len(reads) == 1
    reader.operations()
    assert len(reads) == 2
