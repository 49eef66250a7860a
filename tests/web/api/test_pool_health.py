"""/api/v1/projects/{id}/pools/{pool_id}/health: utilisation, overflows and sizing, per tenant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.runtime import Runtime
from tests.conftest import World
from tests.leases.fixtures import PoolFactory, make_pool, make_visitors

__all__ = ["make_pool", "make_visitors"]


def health_url(world: World, pool_id: int) -> str:
    return f"/api/v1/projects/{world.ours.project.id}/pools/{pool_id}/health"


def test_health_counts_held_numbers_overflows_and_recommends_a_size(
    client: TestClient,
    world: World,
    runtime: Runtime,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
) -> None:
    pool = make_pool(4)
    backend = SqlLeaseBackend(runtime.engine)
    now = datetime.now(UTC)
    outcomes = [
        backend.acquire(pool, visitor, None, {}, now - timedelta(minutes=1))
        for visitor in make_visitors(6)
    ]
    assert sum(o.overflow for o in outcomes) == 2
    response = client.get(health_url(world, pool.pool_id), headers=world.ours.project_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["numbers"], body["held"], body["cooling"], body["available"]) == (4, 4, 0, 0)
    assert body["utilisation"] == 1.0
    assert body["overflows"] == {"last_24h": 2, "last_7d": 2}
    # 6 visitors wanting a number in one hour, each keeping it 15 + 30 minutes
    assert body["recommended_size"] >= 1


def test_an_outsider_cannot_read_our_pool_health(
    client: TestClient, world: World, make_pool: PoolFactory
) -> None:
    pool = make_pool(1)
    response = client.get(health_url(world, pool.pool_id), headers=world.outsider.org_auth)
    assert response.status_code == 404
    foreign = f"/api/v1/projects/{world.outsider.project.id}/pools/{pool.pool_id}/health"
    assert client.get(foreign, headers=world.outsider.org_auth).status_code == 404
