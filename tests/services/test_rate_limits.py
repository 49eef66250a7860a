"""Sliding-window limits, in process and in Redis: the window slides, Retry-After is right."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from ringtrail.services.rate_limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest, redis_url: str) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    client = redis.Redis.from_url(redis_url)
    prefix = f"ringtrail-test:{uuid.uuid4().hex[:12]}"
    try:
        yield RedisRateLimiter(client, prefix=prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_hits_beyond_the_limit_are_refused_with_the_wait(limiter: RateLimiter) -> None:
    for second in range(3):
        assert limiter.hit("k", 3, MINUTE, T0 + timedelta(seconds=second)) is None
    retry_after = limiter.hit("k", 3, MINUTE, T0 + timedelta(seconds=10))
    assert retry_after == pytest.approx(50, abs=0.01)


def test_the_window_slides_and_keys_are_independent(limiter: RateLimiter) -> None:
    for _ in range(2):
        assert limiter.hit("a", 2, MINUTE, T0) is None
    assert limiter.hit("a", 2, MINUTE, T0 + timedelta(seconds=59)) is not None
    assert limiter.hit("b", 2, MINUTE, T0 + timedelta(seconds=59)) is None
    assert limiter.hit("a", 2, MINUTE, T0 + timedelta(seconds=60)) is None
