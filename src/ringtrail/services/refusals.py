"""The refusal log: why visits got no tracking number, counted per project, reason and detail.

Visit starts note a refusal in memory (a dict under a lock: no I/O on the hot path); a timer
writes what was noted `FLUSH_SECONDS` after the first note, one upsert per distinct
(project, reason, detail), and a reader calls `flush` first, so the dashboard shows a refusal
at once. The log is diagnostics, so it is bounded rather than complete: at most
`MAX_PENDING` distinct refusals wait in memory (more are counted in `dropped`), and a
project keeps at most `MAX_ROWS_PER_PROJECT` rows (a new one replaces the one seen longest
ago), so a flood of made-up origins cannot grow the table. Rows not seen for
`RETENTION_DAYS` are purged by the retention job.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Connection, Engine, Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringtrail.services.refusal_rows import latest, make_room, purge_seen_before
from ringtrail.storage.models import TrackingRefusal

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
MAX_PENDING = 1000
MAX_ROWS_PER_PROJECT = 200
RETENTION_DAYS = 30

_refusals = cast(Table, TrackingRefusal.__table__)
_LIMITS = {"detail": 300, "sample_url": 1000, "sample_user_agent": 500}


class NoNumber(StrEnum):
    """Why a visit answer holds no tracking number of its own (the `reason` the API gives)."""

    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    BOT = "bot"
    NO_RULE = "no_rule"
    POOL_EXHAUSTED = "pool_exhausted"
    NUMBER_NOT_SHOWN = "number_not_shown"
    NO_ORIGINAL_NUMBER = "no_original_number"
    AWAITING_INTENT = "awaiting_intent"
    """An intent project's visitor shows the pool's default number until a phone number comes
    into view or is touched; not a refusal, so never written to the refusal log."""


@dataclass
class _Pending:
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    url: str
    user_agent: str


Key = tuple[int, str, str]


class RefusalLog:
    """Refusals noted in memory and written in the background. Thread-safe.

    With `flush_seconds` None nothing is written until `flush` or `close` is called.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        flush_seconds: float | None = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING,
        max_rows: int = MAX_ROWS_PER_PROJECT,
    ) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.max_rows = max_rows
        self.dropped = 0
        self._pending: dict[Key, _Pending] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def note(
        self,
        project_id: int,
        reason: NoNumber | str,
        detail: str,
        url: str,
        user_agent: str,
        now: datetime,
    ) -> None:
        """Count one refusal; it is written within `flush_seconds`. Other refusals than a
        visit's (services/lead_guard.py) pass their own code as text."""
        key = (project_id, str(reason), _cut(detail, "detail"))
        url, user_agent = _cut(url, "sample_url"), _cut(user_agent, "sample_user_agent")
        with self._lock:
            pending = self._pending.get(key)
            if pending is None:
                if len(self._pending) >= self.max_pending:
                    self.dropped += 1
                    return
                self._pending[key] = _Pending(1, now, now, url, user_agent)
            else:
                pending.count += 1
                pending.last_seen_at = max(pending.last_seen_at, now)
                pending.url, pending.user_agent = url, user_agent
            if self._timer is None and self.flush_seconds is not None:
                self._timer = threading.Timer(self.flush_seconds, self._timed_flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> int:
        """Write what was noted; returns the number of distinct refusals written. A write
        under way in another thread is waited for, so after `flush` everything noted before
        it is in the database."""
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            for key, pending in batch.items():
                try:
                    _store(self.engine, key, pending, self.max_rows)
                except Exception:
                    log.warning("could not write a tracking refusal", exc_info=True)
        return len(batch)

    def close(self) -> None:
        """Stop the timer and write what is left."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self.flush()

    def _timed_flush(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()


def _cut(value: str, column: str) -> str:
    return value[: _LIMITS[column]]


def _store(engine: Engine, key: Key, pending: _Pending, max_rows: int) -> None:
    """Add `pending` to its row, or make the row (replacing the project's stalest at the cap).
    A row another process made meanwhile is added to instead."""
    try:
        with engine.begin() as connection:
            if not _add(connection, key, pending):
                make_room(connection, _refusals, key[0], max_rows)
                connection.execute(
                    insert(_refusals).values(
                        project_id=key[0],
                        reason=key[1],
                        detail=key[2],
                        count=pending.count,
                        first_seen_at=pending.first_seen_at,
                        last_seen_at=pending.last_seen_at,
                        sample_url=pending.url,
                        sample_user_agent=pending.user_agent,
                    )
                )
    except IntegrityError:
        with engine.begin() as connection:
            _add(connection, key, pending)


def _add(connection: Connection, key: Key, pending: _Pending) -> bool:
    project_id, reason, detail = key
    result = connection.execute(
        update(_refusals)
        .where(
            _refusals.c.project_id == project_id,
            _refusals.c.reason == reason,
            _refusals.c.detail == detail,
        )
        .values(
            count=_refusals.c.count + pending.count,
            last_seen_at=pending.last_seen_at,
            sample_url=pending.url,
            sample_user_agent=pending.user_agent,
        )
    )
    return bool(result.rowcount)


def list_refusals(db: Session, project_id: int, limit: int = 100) -> list[TrackingRefusal]:
    """The project's refusals, the most recently seen first."""
    return latest(db, TrackingRefusal, project_id, limit)


def purge_refusals(engine: Engine, now: datetime, limit: int = 500) -> int:
    """Delete up to `limit` refusals last seen more than RETENTION_DAYS before `now`."""
    return purge_seen_before(engine, _refusals, now - timedelta(days=RETENTION_DAYS), limit)
