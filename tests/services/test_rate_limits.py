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
        assert limiter.hit_all([("k", 3)], MINUTE, T0 + timedelta(seconds=second)) is None
    retry_after = limiter.hit_all([("k", 3)], MINUTE, T0 + timedelta(seconds=10))
    assert retry_after == pytest.approx(50, abs=0.01)


def test_the_window_slides_and_keys_are_independent(limiter: RateLimiter) -> None:
    for _ in range(2):
        assert limiter.hit_all([("a", 2)], MINUTE, T0) is None
    assert limiter.hit_all([("a", 2)], MINUTE, T0 + timedelta(seconds=59)) is not None
    assert limiter.hit_all([("b", 2)], MINUTE, T0 + timedelta(seconds=59)) is None
    assert limiter.hit_all([("a", 2)], MINUTE, T0 + timedelta(seconds=60)) is None


def test_hit_all_counts_every_window_with_room_and_refuses_if_one_is_full(
    limiter: RateLimiter,
) -> None:
    assert limiter.hit_all([("full", 1)], MINUTE, T0) is None
    retry_after = limiter.hit_all([("full", 1), ("roomy", 2)], MINUTE, T0 + timedelta(seconds=20))
    assert retry_after == pytest.approx(40, abs=0.01)
    # "roomy" counted that refused request: one more fits, then it is full too
    assert limiter.hit_all([("roomy", 2)], MINUTE, T0 + timedelta(seconds=21)) is None
    assert limiter.hit_all([("roomy", 2)], MINUTE, T0 + timedelta(seconds=22)) is not None
    both_full = limiter.hit_all([("full", 1), ("roomy", 2)], MINUTE, T0 + timedelta(seconds=30))
    assert both_full == pytest.approx(50, abs=0.01)  # the longer of the two waits (30 and 50)


def test_hit_all_is_one_redis_round_trip_and_survives_a_script_flush(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    prefix = f"ringtrail-test:{uuid.uuid4().hex[:12]}"
    limiter = RedisRateLimiter(client, prefix=prefix)
    sent: list[int] = []
    pipeline_execute = redis.client.Pipeline.execute

    def counting(self: redis.client.Pipeline, raise_on_error: bool = True) -> list[object]:
        sent.append(len(self.command_stack))
        return pipeline_execute(self, raise_on_error)

    try:
        redis.client.Pipeline.execute = counting  # type: ignore[method-assign]
        assert limiter.hit_all([("a", 2), ("b", 2)], MINUTE, T0) is None
        assert sent == [2]
        client.script_flush()
        assert limiter.hit_all([("a", 2), ("b", 2)], MINUTE, T0) is None
        assert limiter.hit_all([("a", 2), ("b", 5)], MINUTE, T0) is not None  # "a" is full
        assert client.zcard(f"{prefix}:a") == 2 and client.zcard(f"{prefix}:b") == 3
    finally:
        redis.client.Pipeline.execute = pipeline_execute  # type: ignore[method-assign]
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
