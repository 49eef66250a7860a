"""Login lock-out: sign-in attempts counted per e-mail and per address, never forgotten early.

Every attempt counts before its password is checked (so parallel guesses cannot slip past the
count) and a good sign-in clears its e-mail's count. Too many attempts in the window lock
that e-mail from every address, and, at a higher limit, that address for every e-mail.

With Redis configured the counts live there and every app process shares them. Without it
each process counts on its own, in a bounded store that never drops a live count to make
room: when it is full, e-mails and addresses it does not track yet are refused until room
frees, so a flood of junk attempts cannot flush a lock-out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

import redis

from ringtrail.services.rate_limits import RedisRateLimiter

MAX_FAILURES_PER_ACCOUNT = 10
MAX_FAILURES_PER_ADDRESS = 100
WINDOW = timedelta(minutes=15)
MAX_TRACKED = 100_000
"""How many e-mails and addresses one process's store holds (about 100 bytes each, plus a
time per counted attempt)."""


class AttemptCounter(Protocol):
    """Counts attempts per key in sliding windows; forgets a key on request."""

    def hit_all(
        self, limits: Sequence[tuple[str, int]], window: timedelta, now: datetime
    ) -> float | None:
        """Count an attempt in each (key, limit) window with room; None if all had room,
        else the seconds until the longest-waiting full one has room."""
        ...

    def forget(self, key: str) -> None:
        """Drop every attempt counted for `key`."""
        ...


class MemoryAttemptCounter:
    """Per-process windows, bounded: when full it refuses new keys rather than drop live ones."""

    def __init__(self, max_keys: int | None = None) -> None:
        self.max_keys = MAX_TRACKED if max_keys is None else max_keys
        self._attempts: dict[str, deque[datetime]] = {}
        self._room_at: datetime | None = None  # while full: when the first tracked key expires
        self._lock = threading.Lock()

    def hit_all(
        self, limits: Sequence[tuple[str, int]], window: timedelta, now: datetime
    ) -> float | None:
        with self._lock:
            waits = [self._hit(key, limit, window, now) for key, limit in limits]
        refused = [wait for wait in waits if wait is not None]
        return max(refused) if refused else None

    def forget(self, key: str) -> None:
        with self._lock:
            if self._attempts.pop(key, None) is not None:
                self._room_at = None

    def _hit(self, key: str, limit: int, window: timedelta, now: datetime) -> float | None:
        attempts = self._attempts.get(key)
        if attempts is None:
            if not self._make_room(window, now):
                assert self._room_at is not None
                return _seconds(self._room_at - now)
            attempts = self._attempts[key] = deque(maxlen=limit)
        while attempts and attempts[0] <= now - window:
            attempts.popleft()
        if len(attempts) >= limit:
            return _seconds(attempts[-limit] + window - now)
        attempts.append(now)
        return None

    def _make_room(self, window: timedelta, now: datetime) -> bool:
        """Whether a new key fits, after dropping keys whose every attempt has expired.

        Only looks again once the earliest tracked key can have expired, so a flood against
        a full store costs nothing per attempt.
        """
        if len(self._attempts) < self.max_keys:
            return True
        if self._room_at is not None and now < self._room_at:
            return False
        cutoff = now - window
        for key in [k for k, times in self._attempts.items() if not times or times[-1] <= cutoff]:
            del self._attempts[key]
        if len(self._attempts) < self.max_keys:
            self._room_at = None
            return True
        self._room_at = min(times[-1] for times in self._attempts.values()) + window
        return False


class RedisAttemptCounter(RedisRateLimiter):
    """The tracking API's Redis sliding windows, shared by every process, plus `forget`."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__(client, prefix=prefix)
        self._redis = client

    def forget(self, key: str) -> None:
        self._redis.delete(f"{self.prefix}:{key}")


def _seconds(wait: timedelta) -> float:
    return max(wait.total_seconds(), 0.001)


def _digest(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


class LoginThrottle:
    """Locks an e-mail after `per_account` attempts, an address after `per_address`, per window."""

    def __init__(
        self,
        counter: AttemptCounter | None = None,
        *,
        per_account: int | None = None,
        per_address: int | None = None,
        window: timedelta = WINDOW,
    ) -> None:
        self.counter = counter if counter is not None else MemoryAttemptCounter()
        self.per_account = MAX_FAILURES_PER_ACCOUNT if per_account is None else per_account
        self.per_address = MAX_FAILURES_PER_ADDRESS if per_address is None else per_address
        self.window = window

    @staticmethod
    def _account(email: str) -> str:
        return _digest("account", email.strip().lower())

    def admit(self, email: str, address: str, now: datetime) -> timedelta | None:
        """Count one sign-in attempt; None when it may go ahead, else how long until one may."""
        limits = [
            (self._account(email), self.per_account),
            (_digest("address", address), self.per_address),
        ]
        wait = self.counter.hit_all(limits, self.window, now)
        return None if wait is None else timedelta(seconds=wait)

    def record_success(self, email: str) -> None:
        """A good sign-in clears its e-mail's count (its address keeps counting)."""
        self.counter.forget(self._account(email))


def login_throttle(client: redis.Redis | None, redis_key_prefix: str) -> LoginThrottle:
    """Counting in Redis when there is one, else in this process."""
    if client is None:
        return LoginThrottle()
    return LoginThrottle(RedisAttemptCounter(client, prefix=f"{redis_key_prefix}:login"))
