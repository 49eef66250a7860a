"""When a backend (re)loads a pool's numbers: before first use, then every few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

RESYNC_SECONDS = 10.0
"""Numbers added to a pool are handed out at most this long after they were added."""


class SyncSchedule:
    """Remembers, per pool and per process, when its numbers were last loaded."""

    def __init__(
        self,
        interval: float = RESYNC_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._loaded: dict[int, float] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def due(self, pool_id: int) -> bool:
        """Whether the next `run` for the pool would load it."""
        with self._lock:
            last = self._loaded.get(pool_id)
        return last is None or self._clock() - last >= self.interval

    def run(self, pool_id: int, load: Callable[[], None]) -> None:
        """Call `load` if the pool is due. The first load of a pool makes every caller wait
        for it (nobody leases from a pool not yet loaded); a later refresh is done by one
        caller while the others go on with the numbers already loaded."""
        with self._lock:
            last = self._loaded.get(pool_id)
            if last is not None and self._clock() - last < self.interval:
                return
            pool_lock = self._locks.setdefault(pool_id, threading.Lock())
        if not pool_lock.acquire(blocking=last is None):
            return
        try:
            with self._lock:
                latest = self._loaded.get(pool_id)
            if latest is not None and self._clock() - latest < self.interval:
                return  # loaded by another caller while this one waited
            load()
            with self._lock:
                self._loaded[pool_id] = self._clock()
        finally:
            pool_lock.release()
