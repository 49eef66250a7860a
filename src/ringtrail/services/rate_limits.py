"""Sliding-window rate limits for the public tracking API: in process, or shared in Redis.

The in-process limiter suits the embedded default (one process); with Redis configured every
app process counts in the same window. Both take `now` from the caller.

`hit_all` counts one request in several windows at once (a visit start: its address and its
visitor): each window counts the request if it has room, and the request is refused if any
window was full. In Redis that is one round trip (a pipeline of one script call per window,
whatever Redis Cluster slots the keys fall in).
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis
from redis.exceptions import NoScriptError

MAX_TRACKED_KEYS = 100_000


class RateLimiter(Protocol):
    """Counts hits per key inside sliding windows."""

    def hit_all(
        self, limits: Sequence[tuple[str, int]], window: timedelta, now: datetime
    ) -> float | None:
        """Count a hit in each (key, limit) window that has room; None if every window had,
        else the seconds until the longest-waiting full one has room (Retry-After)."""
        ...


def _longest(waits: Sequence[float | None]) -> float | None:
    refused = [wait for wait in waits if wait is not None]
    return max(refused) if refused else None


class MemoryRateLimiter:
    """Per-process sliding windows (a deque of hit times per key)."""

    def __init__(self, max_keys: int = MAX_TRACKED_KEYS) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit_all(
        self, limits: Sequence[tuple[str, int]], window: timedelta, now: datetime
    ) -> float | None:
        return _longest([self._hit(key, limit, window, now) for key, limit in limits])

    def _hit(self, key: str, limit: int, window: timedelta, now: datetime) -> float | None:
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._forget_idle(now, window)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max((hits[0] + window - now).total_seconds(), 0.001)
            hits.append(now)
            return None

    def _forget_idle(self, now: datetime, window: timedelta) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - window]:
            del self._hits[key]
        while len(self._hits) >= self._max_keys:  # still full: drop the oldest keys
            del self._hits[next(iter(self._hits))]


_SLIDING_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return false
"""


class RedisRateLimiter:
    """Sliding windows in Redis sorted sets, one atomic script per window."""

    def __init__(self, client: redis.Redis, prefix: str = "ringtrail:rate") -> None:
        self.prefix = prefix
        self._client = client
        self._script = client.register_script(_SLIDING_WINDOW)

    def hit_all(
        self, limits: Sequence[tuple[str, int]], window: timedelta, now: datetime
    ) -> float | None:
        window_ms = int(window.total_seconds() * 1000)
        now_ms = int(now.timestamp() * 1000)
        calls = [
            (f"{self.prefix}:{key}", now_ms, window_ms, limit, uuid.uuid4().hex)
            for key, limit in limits
        ]
        replies = self._evaluate(calls)
        lost = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if lost:  # Redis lost its scripts (a restart): load it, run again only those calls
            self._script.sha = self._client.script_load(_SLIDING_WINDOW)
            for index, reply in zip(lost, self._evaluate([calls[i] for i in lost]), strict=True):
                replies[index] = reply
        return _longest([self._wait(reply) for reply in replies])

    def _evaluate(self, calls: Sequence[tuple[str, int, int, int, str]]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for key, now_ms, window_ms, limit, member in calls:
            pipe.evalsha(self._script.sha, 1, key, now_ms, window_ms, limit, member)
        return list(pipe.execute(raise_on_error=False))

    @staticmethod
    def _wait(reply: Any) -> float | None:
        if isinstance(reply, Exception):
            raise reply
        if reply is None:
            return None
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        return max(float(text) / 1000, 0.001)
