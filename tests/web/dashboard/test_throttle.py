"""Sign-in attempts lock an e-mail from every address, and an address for every e-mail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from ringtrail.web.dashboard.throttle import (
    AttemptCounter,
    LoginThrottle,
    MemoryAttemptCounter,
    RedisAttemptCounter,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


@pytest.fixture(params=["memory", "redis"])
def counter(request: pytest.FixtureRequest) -> Iterator[AttemptCounter]:
    """Both places attempts are counted: one process's memory, and Redis."""
    if request.param == "memory":
        yield MemoryAttemptCounter()
        return
    redis_url: str = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(redis_url)
    prefix = f"ringtrail-test-{uuid.uuid4().hex[:12]}:login"
    try:
        yield RedisAttemptCounter(client, prefix=prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def _attempt(
    throttle: LoginThrottle,
    times: int,
    at: datetime = NOW,
    email: str = "Owner@Example.com",
    address: str = "10.0.0.1",
) -> list[timedelta | None]:
    return [throttle.admit(email, address, at) for _ in range(times)]


def test_attempts_are_admitted_up_to_the_limit(counter: AttemptCounter) -> None:
    throttle = LoginThrottle(counter, per_account=3, per_address=10, window=WINDOW)
    assert _attempt(throttle, 3) == [None, None, None]
    assert _attempt(throttle, 1)[0] is not None


def test_a_lock_lasts_until_the_oldest_counted_attempt_expires(counter: AttemptCounter) -> None:
    throttle = LoginThrottle(counter, per_account=3, per_address=10, window=WINDOW)
    _attempt(throttle, 1, NOW)
    _attempt(throttle, 2, NOW + timedelta(minutes=5))
    wait = throttle.admit("owner@example.com", "10.0.0.1", NOW + timedelta(minutes=6))
    assert wait == timedelta(minutes=9)
    assert throttle.admit("owner@example.com", "10.0.0.1", NOW + timedelta(minutes=15)) is None


def test_an_email_is_locked_from_every_address(counter: AttemptCounter) -> None:
    throttle = LoginThrottle(counter, per_account=3, per_address=10, window=WINDOW)
    for number in range(3):
        _attempt(throttle, 1, address=f"10.0.0.{number}")
    assert throttle.admit("owner@example.com", "192.0.2.9", NOW) is not None
    assert throttle.admit("other@example.com", "192.0.2.9", NOW) is None


def test_an_address_is_locked_for_every_email(counter: AttemptCounter) -> None:
    throttle = LoginThrottle(counter, per_account=3, per_address=5, window=WINDOW)
    for number in range(5):
        _attempt(throttle, 1, email=f"user{number}@example.com")
    assert throttle.admit("fresh@example.com", "10.0.0.1", NOW) is not None
    assert throttle.admit("fresh@example.com", "10.0.0.2", NOW) is None


def test_a_successful_sign_in_clears_the_emails_count(counter: AttemptCounter) -> None:
    throttle = LoginThrottle(counter, per_account=3, per_address=10, window=WINDOW)
    _attempt(throttle, 2)
    throttle.record_success("owner@example.com")
    assert _attempt(throttle, 3) == [None, None, None]


def test_a_full_store_refuses_newcomers_instead_of_forgetting_a_lock() -> None:
    throttle = LoginThrottle(
        MemoryAttemptCounter(max_keys=10), per_account=3, per_address=1000, window=WINDOW
    )
    _attempt(throttle, 3)
    for number in range(1000):  # junk from many addresses, each e-mail and address new
        throttle.admit(f"junk{number}@flood.example", f"198.51.100.{number % 250}", NOW)
    assert throttle.admit("owner@example.com", "10.0.0.1", NOW) is not None
    assert throttle.admit("owner@example.com", "203.0.113.5", NOW) is not None
    assert throttle.admit("someone@example.com", "203.0.113.5", NOW) is not None  # no room
    later = NOW + WINDOW + timedelta(seconds=1)
    assert throttle.admit("someone@example.com", "203.0.113.5", later) is None  # room again
