"""Failed sign-ins for one e-mail from one address are limited within a sliding window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ringtrail.web.dashboard.throttle import LoginThrottle

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _fail(throttle: LoginThrottle, times: int, at: datetime = NOW) -> None:
    for _ in range(times):
        throttle.record_failure("Owner@Example.com", "10.0.0.1", at)


def test_attempts_are_allowed_below_the_limit() -> None:
    throttle = LoginThrottle(max_failures=3, window=timedelta(minutes=15))
    _fail(throttle, 2)
    assert throttle.retry_after("owner@example.com", "10.0.0.1", NOW) is None


def test_reaching_the_limit_blocks_until_the_oldest_counted_failure_expires() -> None:
    throttle = LoginThrottle(max_failures=3, window=timedelta(minutes=15))
    _fail(throttle, 1, NOW)
    _fail(throttle, 2, NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=6)
    assert throttle.retry_after("owner@example.com", "10.0.0.1", later) == timedelta(minutes=9)
    after = NOW + timedelta(minutes=15)
    assert throttle.retry_after("owner@example.com", "10.0.0.1", after) is None


def test_the_limit_is_per_email_and_address() -> None:
    throttle = LoginThrottle(max_failures=3)
    _fail(throttle, 3)
    assert throttle.retry_after("owner@example.com", "10.0.0.1", NOW) is not None
    assert throttle.retry_after("owner@example.com", "10.0.0.2", NOW) is None
    assert throttle.retry_after("other@example.com", "10.0.0.1", NOW) is None


def test_a_successful_sign_in_clears_the_count() -> None:
    throttle = LoginThrottle(max_failures=3)
    _fail(throttle, 2)
    throttle.record_success("owner@example.com", "10.0.0.1")
    _fail(throttle, 2)
    assert throttle.retry_after("owner@example.com", "10.0.0.1", NOW) is None
