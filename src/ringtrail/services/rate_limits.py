"""Sliding-window rate limits for the public tracking API: in process, or shared in Redis.

The in-process limiter suits the embedded default (one process); with Redis configured every
app process counts in the same window. Both take `now` from the caller.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from datetime import datetime, timedelta
from typing import Protocol

import redis

MAX_TRACKED_KEYS = 100_000


class RateLimiter(Protocol):
    """Counts hits per key inside a sliding window."""

    def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> float | None:
        """Count a hit; None if allowed, else the seconds until one would be (Retry-After)."""
        ...


class MemoryRateLimiter:
    """Per-process sliding windows (a deque of hit times per key)."""

    def __init__(self, max_keys: int = MAX_TRACKED_KEYS) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> float | None:
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
    """Sliding windows in Redis sorted sets, one atomic script per hit."""

    def __init__(self, client: redis.Redis, prefix: str = "ringtrail:rate") -> None:
        self.prefix = prefix
        self._script = client.register_script(_SLIDING_WINDOW)

    def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> float | None:
        window_ms = int(window.total_seconds() * 1000)
        now_ms = int(now.timestamp() * 1000)
        reply = self._script(
            keys=[f"{self.prefix}:{key}"], args=[now_ms, window_ms, limit, uuid.uuid4().hex]
        )
        if reply is None:
            return None
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        return max(float(text) / 1000, 0.001)
