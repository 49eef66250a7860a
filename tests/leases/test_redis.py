"""The Redis lease backend after Redis lost its data (a restart without persistence)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy.orm import Session

from ringtrail.leases.redis import RedisLeaseBackend
from ringtrail.runtime import Runtime
from ringtrail.storage.models import NumberLease
from tests.leases.fixtures import T0, PoolFactory

SNAPSHOT = {"source": "google"}


@pytest.fixture
def redis_backend(
    runtime: Runtime, redis_url: str, redis_prefix: str
) -> Iterator[RedisLeaseBackend]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield RedisLeaseBackend(client, runtime.engine, prefix=redis_prefix)
    finally:
        client.close()


def lose_redis_data(backend: RedisLeaseBackend) -> None:
    """What a Redis restart without persistence does to the backend's keys."""
    keys = list(backend.client.scan_iter(match=f"{backend.prefix}:*"))
    assert keys
    backend.client.delete(*keys)


def test_a_heartbeat_after_redis_lost_its_data_keeps_the_live_hold(
    redis_backend: RedisLeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(2)
    (visitor,) = make_visitors(1)
    held = redis_backend.acquire(pool, visitor, None, SNAPSHOT, T0)
    lose_redis_data(redis_backend)

    beat = redis_backend.heartbeat(pool, visitor, T0 + timedelta(minutes=5))

    # The hold comes back from the lease history; the visitor is not told it is gone.
    assert beat is not None
    assert (beat.number_id, beat.lease_id) == (held.number_id, held.lease_id)
    assert beat.hold_until == T0 + timedelta(minutes=20)
    db.expire_all()
    row = db.get(NumberLease, held.lease_id)
    assert row is not None and row.hold_until == beat.hold_until and row.released_at is None


def test_after_redis_lost_its_data_a_live_hold_is_not_handed_to_another_visitor(
    redis_backend: RedisLeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
) -> None:
    pool = make_pool(1)
    first, second = make_visitors(2)
    held = redis_backend.acquire(pool, first, None, SNAPSHOT, T0)
    lose_redis_data(redis_backend)

    other = redis_backend.acquire(pool, second, None, SNAPSHOT, T0 + timedelta(minutes=1))
    beat = redis_backend.heartbeat(pool, first, T0 + timedelta(minutes=2))

    assert other.overflow and other.number_id != held.number_id
    assert beat is not None and beat.number_id == held.number_id
