"""What monitoring reads from the database: pools' numbers and holds, job queues, failures.

One short read-only transaction of grouped counts, each answered from an index or a small
table (the failed recordings count is the exception: a scan, so callers refresh it less
often). Live holds are read from `number_leases`, which both lease backends keep current
(Redis heartbeats extend the row too), so the figures are the same whichever backend runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, select, text

from ringtrail.leases.history import hour_of
from ringtrail.recordings.policy import MAX_ATTEMPTS, RecordingStatus
from ringtrail.storage.models import (
    NumberLease,
    OutboundDelivery,
    Pool,
    PoolOverflow,
    Recording,
    RollupDirty,
    TrackingNumber,
)

QUERY_TIMEOUT_MS = 2000
"""PostgreSQL cancels a monitoring query that runs longer: a scrape must never pile up."""

_pools = cast(Table, Pool.__table__)
_numbers = cast(Table, TrackingNumber.__table__)
_leases = cast(Table, NumberLease.__table__)
_overflows = cast(Table, PoolOverflow.__table__)
_recordings = cast(Table, Recording.__table__)
_deliveries = cast(Table, OutboundDelivery.__table__)
_dirty = cast(Table, RollupDirty.__table__)


@dataclass(frozen=True)
class PoolFigures:
    """One number pool now: its numbers, those held by a visitor, overflows lately."""

    project_id: int
    pool_id: int
    numbers: int
    held: int
    overflows_this_hour: int
    overflows_last_24h: int


@dataclass(frozen=True)
class QueueFigures:
    """One job queue: jobs waiting (due or not) and how late the most overdue one is."""

    name: str
    depth: int
    oldest_due_seconds: float


@dataclass(frozen=True)
class Failures:
    """Work given up for good: recordings never fetched, deliveries refused."""

    recordings: int
    deliveries: int


@dataclass(frozen=True)
class OperationsSnapshot:
    """Everything the metrics endpoint reads from the database at one moment."""

    pools: tuple[PoolFigures, ...]
    queues: tuple[QueueFigures, ...]


def read_operations(engine: Engine, now: datetime) -> OperationsSnapshot:
    """Pools and job queues as of `now`."""
    with _read_only(engine) as connection:
        return OperationsSnapshot(
            pools=_pool_figures(connection, now), queues=_queue_figures(connection, now)
        )


def read_failures(engine: Engine) -> Failures:
    """How many recordings and outbound deliveries have failed for good."""
    with _read_only(engine) as connection:
        recordings = connection.execute(
            select(func.count()).where(_recordings.c.status == RecordingStatus.FAILED)
        ).scalar_one()
        deliveries = connection.execute(
            select(func.count()).where(_deliveries.c.status == "failed")
        ).scalar_one()
    return Failures(recordings=int(recordings), deliveries=int(deliveries))


@contextmanager
def _read_only(engine: Engine) -> Iterator[Connection]:
    """A transaction with a short statement timeout on PostgreSQL, rolled back at the end."""
    with engine.connect() as connection, connection.begin() as transaction:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}"))
        yield connection
        transaction.rollback()


def _counts(connection: Connection, query: Any) -> Mapping[int, int]:
    return {int(key): int(count) for key, count in connection.execute(query)}


def _pool_figures(connection: Connection, now: datetime) -> tuple[PoolFigures, ...]:
    pools = connection.execute(
        select(_pools.c.id, _pools.c.project_id)
        .where(_pools.c.is_active.is_(True))
        .order_by(_pools.c.id)
    ).all()
    numbers = _counts(
        connection,
        select(_numbers.c.pool_id, func.count())
        .where(
            _numbers.c.pool_id.is_not(None),
            _numbers.c.is_active.is_(True),
            _numbers.c.is_pool_default.is_(False),
        )
        .group_by(_numbers.c.pool_id),
    )
    held = _counts(
        connection,
        select(_leases.c.pool_id, func.count())
        .where(_leases.c.released_at.is_(None), _leases.c.hold_until > now)
        .group_by(_leases.c.pool_id),
    )
    this_hour = hour_of(now)
    day_ago = hour_of(now - timedelta(hours=24))
    recent = connection.execute(
        select(
            _overflows.c.pool_id,
            func.sum(_overflows.c["count"]),
            func.sum(_overflows.c["count"]).filter(_overflows.c.hour_start >= this_hour),
        )
        .where(_overflows.c.hour_start > day_ago)
        .group_by(_overflows.c.pool_id)
    ).all()
    overflows = {int(row[0]): (int(row[1] or 0), int(row[2] or 0)) for row in recent}
    return tuple(
        PoolFigures(
            project_id=int(pool.project_id),
            pool_id=int(pool.id),
            numbers=numbers.get(pool.id, 0),
            held=held.get(pool.id, 0),
            overflows_this_hour=overflows.get(pool.id, (0, 0))[1],
            overflows_last_24h=overflows.get(pool.id, (0, 0))[0],
        )
        for pool in pools
    )


def _queue_figures(connection: Connection, now: datetime) -> tuple[QueueFigures, ...]:
    fetches = connection.execute(
        select(
            func.count(),
            func.min(_recordings.c.next_attempt_at).filter(_recordings.c.next_attempt_at <= now),
        ).where(
            # The predicate of the partial index ix_recordings_due, so the index answers.
            _recordings.c.status.in_((RecordingStatus.PENDING, RecordingStatus.FETCHING)),
            _recordings.c.provider_url.is_not(None),
            _recordings.c.attempts < MAX_ATTEMPTS,
        )
    ).one()
    deliveries = connection.execute(
        select(
            func.count(),
            func.min(_deliveries.c.next_attempt_at).filter(_deliveries.c.next_attempt_at <= now),
        ).where(_deliveries.c.status == "pending")
    ).one()
    stale_days = connection.execute(select(func.count()).select_from(_dirty)).scalar_one()
    return (
        QueueFigures("recording_fetch", int(fetches[0]), _lateness(fetches[1], now)),
        QueueFigures("outbound_delivery", int(deliveries[0]), _lateness(deliveries[1], now)),
        # A stale day has no time it was marked: only how many are waiting.
        QueueFigures("report_rollup", int(stale_days), 0.0),
    )


def _lateness(due_at: datetime | None, now: datetime) -> float:
    return max((now - due_at).total_seconds(), 0.0) if due_at is not None else 0.0
