"""Fixtures for lease backends: each backend on the real database and Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from ringtrail.leases.base import LeaseBackend
from ringtrail.leases.redis import RedisLeaseBackend
from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.runtime import Runtime
from tests.leases.fixtures import make_pool, make_visitors

__all__ = ["make_pool", "make_visitors"]


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"ringtrail-test:{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["sql", "redis"])
def backend(
    request: pytest.FixtureRequest, runtime: Runtime, redis_url: str, redis_prefix: str
) -> Iterator[LeaseBackend]:
    """Each lease backend on the test database (and the test Redis)."""
    if request.param == "sql":
        yield SqlLeaseBackend(runtime.engine)
        return
    client = redis.Redis.from_url(redis_url)
    try:
        yield RedisLeaseBackend(client, runtime.engine, prefix=redis_prefix)
    finally:
        client.close()
