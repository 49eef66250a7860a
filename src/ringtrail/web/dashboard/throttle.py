"""Login throttling: too many failed sign-ins for one e-mail from one address lock it for a while.

Kept in process memory: each worker counts on its own, which bounds guessing well enough for
a self-hosted dashboard without needing Redis.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
MAX_TRACKED = 10_000


class LoginThrottle:
    """Counts failed sign-ins per (e-mail, client address) inside a sliding window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: timedelta = WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(email: str, address: str) -> tuple[str, str]:
        return email.strip().lower(), address

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, email: str, address: str, now: datetime) -> timedelta | None:
        """How long until another attempt is allowed, or None when one is allowed now."""
        with self._lock:
            failures = self._recent(self._key(email, address), now)
            if len(failures) < self.max_failures:
                return None
            return failures[-self.max_failures] + self.window - now

    def record_failure(self, email: str, address: str, now: datetime) -> None:
        """Count one failed sign-in."""
        key = self._key(email, address)
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._forget_expired(now)
            self._failures.setdefault(key, deque()).append(now)

    def record_success(self, email: str, address: str) -> None:
        """A good sign-in clears the count."""
        with self._lock:
            self._failures.pop(self._key(email, address), None)

    def _forget_expired(self, now: datetime) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= MAX_TRACKED:  # still full: drop the oldest entries
            self._failures.pop(next(iter(self._failures)))
