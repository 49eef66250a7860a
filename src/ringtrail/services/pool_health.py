"""Pool health: utilisation now, overflows lately and the size the traffic calls for."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ringtrail.domain.pools import DefaultNumber, PoolCensus, PoolDemand, recommend_pool_size
from ringtrail.leases.base import LeaseBackend, PoolRef
from ringtrail.leases.history import hour_of, overflows_since
from ringtrail.services.tracking_config import make_pool_ref
from ringtrail.storage.models import NumberLease, Pool, PoolOverflow, Project, TrackingNumber

DEMAND_WINDOW = timedelta(days=7)
_overflows = cast(Table, PoolOverflow.__table__)


@dataclass(frozen=True)
class PoolHealth:
    """What the pool health endpoint shows."""

    census: PoolCensus
    overflows_last_24h: int
    overflows_last_7d: int
    recommended_size: int


def pool_ref(session: Session, project: Project, pool: Pool) -> PoolRef:
    """A pool as the lease backends see it, read from the database."""
    default = session.scalar(
        select(TrackingNumber).where(
            TrackingNumber.pool_id == pool.id, TrackingNumber.is_pool_default.is_(True)
        )
    )
    return make_pool_ref(
        project, pool, DefaultNumber(default.id, default.e164) if default else None
    )


def observed_demand(session: Session, pool_id: int, now: datetime) -> PoolDemand:
    """Peak visitors wanting a number per minute (busiest hour of the last 7 days, holds plus
    overflows) and the mean visit length (first page to last heartbeat)."""
    since = now - DEMAND_WINDOW
    per_hour: Counter[datetime] = Counter()
    visit_minutes: list[float] = []
    rows = session.execute(
        select(NumberLease.leased_at, NumberLease.last_heartbeat_at).where(
            NumberLease.pool_id == pool_id, NumberLease.leased_at >= since
        )
    )
    for leased_at, last_heartbeat_at in rows:
        per_hour[hour_of(leased_at)] += 1
        visit_minutes.append((last_heartbeat_at - leased_at).total_seconds() / 60)
    overflow_rows = session.execute(
        select(_overflows.c.hour_start, _overflows.c["count"]).where(
            _overflows.c.pool_id == pool_id, _overflows.c.hour_start >= hour_of(since)
        )
    )
    for hour_start, count in overflow_rows:
        per_hour[hour_start] += count
    peak = max(per_hour.values(), default=0)
    mean_visit = sum(visit_minutes) / len(visit_minutes) if visit_minutes else 0.0
    return PoolDemand(peak_arrivals_per_minute=peak / 60, mean_visit_minutes=mean_visit)


def pool_health(
    session: Session, backend: LeaseBackend, project: Project, pool: Pool, now: datetime
) -> PoolHealth:
    """The pool's census from its lease backend, overflow counts and sizing advice."""
    ref = pool_ref(session, project, pool)
    connection = session.connection()
    return PoolHealth(
        census=backend.census(ref, now),
        overflows_last_24h=overflows_since(connection, pool.id, now - timedelta(hours=24)),
        overflows_last_7d=overflows_since(connection, pool.id, now - DEMAND_WINDOW),
        recommended_size=recommend_pool_size(observed_demand(session, pool.id, now), ref.timings),
    )
