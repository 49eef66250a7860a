"""The lease history in SQL, shared by both backends: lease rows, releases and overflow counts.

Every function works on a Connection inside the caller's transaction. `write_transaction`
opens one that is safe against concurrent writers on both databases: on SQLite it starts
with BEGIN IMMEDIATE (the write lock is taken up front, so two writers queue on the busy
timeout instead of failing when a read transaction tries to upgrade).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringtrail.domain.pools import resolve_timings
from ringtrail.storage.models import NumberLease, Pool, PoolOverflow, Project

leases = cast(Table, NumberLease.__table__)
overflows = cast(Table, PoolOverflow.__table__)
CLOSE_BATCH = 1000


def begin_immediate(connection: Connection) -> None:
    """On SQLite take the write lock now; call first thing in a transaction. No-op elsewhere.

    pysqlite opens its own transaction only before INSERT/UPDATE/DELETE, so a BEGIN IMMEDIATE
    sent as the first statement is passed through and the DBAPI commit() later ends it.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_write(session: Session) -> None:
    """`begin_immediate` for an ORM session that has not run anything yet."""
    begin_immediate(session.connection())


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on success, rolled back on error."""
    with engine.connect() as connection:
        begin_immediate(connection)
        try:
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise


def insert_lease(
    connection: Connection,
    *,
    project_id: int,
    pool_id: int,
    number_id: int,
    visitor_id: int,
    visit_id: int | None,
    snapshot: Mapping[str, Any],
    now: datetime,
    hold_until: datetime,
) -> int:
    """Write a new live hold and return its id (the partial unique index guards the number)."""
    lease_id = connection.execute(
        insert(leases)
        .values(
            project_id=project_id,
            pool_id=pool_id,
            number_id=number_id,
            visitor_id=visitor_id,
            visit_id=visit_id,
            leased_at=now,
            last_heartbeat_at=now,
            hold_until=hold_until,
            snapshot=dict(snapshot),
        )
        .returning(leases.c.id)
    ).scalar_one()
    return int(lease_id)


def release_lease(
    connection: Connection, lease_id: int, ended_at: datetime, cooldown: timedelta
) -> bool:
    """Close a live lease as ended at `ended_at`, cooling until `ended_at` + cooldown."""
    result = connection.execute(
        update(leases)
        .where(leases.c.id == lease_id, leases.c.released_at.is_(None))
        .values(released_at=ended_at, cooldown_until=ended_at + cooldown)
    )
    return result.rowcount == 1


def release_live_lease_of_number(
    connection: Connection, number_id: int, now: datetime, cooldown: timedelta
) -> int | None:
    """Close the number's live lease row, if any, at its end (or now, if it had not ended).

    Returns the closed lease's id.
    """
    row = connection.execute(
        select(leases.c.id, leases.c.hold_until).where(
            leases.c.number_id == number_id, leases.c.released_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    release_lease(connection, row.id, min(row.hold_until, now), cooldown)
    return int(row.id)


def extend_lease(
    connection: Connection, lease_id: int, now: datetime, hold_until: datetime
) -> None:
    """Record a heartbeat (or a page view) on a live lease."""
    connection.execute(
        update(leases)
        .where(leases.c.id == lease_id, leases.c.released_at.is_(None))
        .values(last_heartbeat_at=now, hold_until=hold_until)
    )


def hour_of(moment: datetime) -> datetime:
    """The start of the hour `moment` falls in (overflow counters are kept per hour)."""
    return moment.replace(minute=0, second=0, microsecond=0)


def count_overflow(connection: Connection, pool_id: int, now: datetime) -> None:
    """Add one to the pool's overflow count for the current hour (an atomic upsert)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(overflows).values(pool_id=pool_id, hour_start=hour_of(now), count=1)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[overflows.c.pool_id, overflows.c.hour_start],
            set_={"count": overflows.c["count"] + 1},
        )
    )


def overflows_since(connection: Connection, pool_id: int, since: datetime) -> int:
    """Visitors who saw the pool's default number since the hour `since` falls in."""
    total = connection.execute(
        select(func.coalesce(func.sum(overflows.c["count"]), 0)).where(
            overflows.c.pool_id == pool_id, overflows.c.hour_start >= hour_of(since)
        )
    ).scalar_one()
    return int(total)


def close_ended_leases(connection: Connection, now: datetime, batch: int = CLOSE_BATCH) -> int:
    """Write down the release of up to `batch` holds that ended before `now`.

    A hold is released at its `hold_until` (the moment it really ended, not when this runs)
    and cools for its pool's cool-down from then.
    """
    pools, projects = cast(Table, Pool.__table__), cast(Table, Project.__table__)
    rows = connection.execute(
        select(
            leases.c.id,
            leases.c.hold_until,
            pools.c.grace_minutes.label("pool_grace"),
            pools.c.cooldown_minutes.label("pool_cooldown"),
            projects.c.grace_minutes,
            projects.c.cooldown_minutes,
        )
        .join(pools, pools.c.id == leases.c.pool_id)
        .join(projects, projects.c.id == leases.c.project_id)
        .where(leases.c.released_at.is_(None), leases.c.hold_until <= now)
        .limit(batch)
    ).all()
    closed = 0
    for row in rows:
        timings = resolve_timings(
            row.grace_minutes, row.cooldown_minutes, row.pool_grace, row.pool_cooldown
        )
        closed += release_lease(connection, row.id, row.hold_until, timings.cooldown)
    return closed
