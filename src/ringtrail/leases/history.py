"""The lease history in SQL, shared by both backends: lease rows, releases and overflow counts.

Every function works on a Connection inside the caller's transaction. `write_transaction`
opens one that is safe against concurrent writers on both databases: on SQLite it starts
with BEGIN IMMEDIATE (the write lock is taken up front, so two writers queue on the busy
timeout instead of failing when a read transaction tries to upgrade). Work done outside the
database on behalf of such a transaction (a Redis hold) registers its undo with
`on_rollback`, so whoever owns the transaction needs to know nothing about it.

The statements of the visit-start path are built once (with bind parameters) rather than per
call: building and cache-keying a Core statement costs more than running it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Interval,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ringtrail.domain.pools import resolve_timings
from ringtrail.storage.models import NumberLease, Pool, PoolOverflow, Project
from ringtrail.storage.models.base import UTCDateTime

leases = cast(Table, NumberLease.__table__)
overflows = cast(Table, PoolOverflow.__table__)
CLOSE_BATCH = 1000
_ON_ROLLBACK = "ringtrail.on_rollback"

_INSERT_LEASE = insert(leases).returning(leases.c.id)
_RELEASE_LEASE = (
    update(leases)
    .where(leases.c.id == bindparam("lease_id"), leases.c.released_at.is_(None))
    .values(released_at=bindparam("ended_at"), cooldown_until=bindparam("cooling_until"))
)
_LIVE_LEASE_OF_NUMBER = select(leases.c.id, leases.c.hold_until).where(
    leases.c.number_id == bindparam("number_id"), leases.c.released_at.is_(None)
)
_LEASE_VALUES = (
    "project_id",
    "pool_id",
    "number_id",
    "visitor_id",
    "visit_id",
    "leased_at",
    "last_heartbeat_at",
    "hold_until",
    "snapshot",
)


def _replace_live_lease() -> Any:
    """PostgreSQL: `release_live_lease_of_number` and `insert_lease` in one statement. The
    insert waits on the count of released rows, so the old row is closed before the new one
    meets the unique index on live leases. No parameter is named like a column: SQLAlchemy
    would add it to the UPDATE's SET clause."""
    ended = func.least(leases.c.hold_until, bindparam("p_now", type_=UTCDateTime()))
    released = (
        update(leases)
        .where(leases.c.number_id == bindparam("p_number_id"), leases.c.released_at.is_(None))
        .values(
            released_at=ended,
            cooldown_until=ended + bindparam("p_cooldown", type_=Interval()),
        )
        .returning(leases.c.id)
        .cte("released")
    )
    row = select(*(bindparam(f"p_{name}", type_=leases.c[name].type) for name in _LEASE_VALUES))
    done = select(func.count()).select_from(released).scalar_subquery()
    return (
        insert(leases)
        .from_select(list(_LEASE_VALUES), row.where(done >= literal_column("0")))
        .returning(leases.c.id)
    )


_REPLACE_LIVE_LEASE = _replace_live_lease()
_EXTEND_LEASE = (
    update(leases)
    .where(leases.c.id == bindparam("lease_id"), leases.c.released_at.is_(None))
    .values(last_heartbeat_at=bindparam("now"), hold_until=bindparam("hold_until"))
)


def begin_immediate(connection: Connection) -> None:
    """On SQLite take the write lock now; call first thing in a transaction. No-op elsewhere.

    pysqlite opens its own transaction only before INSERT/UPDATE/DELETE, so a BEGIN IMMEDIATE
    sent as the first statement is passed through and the DBAPI commit() later ends it.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on success, rolled back on error (then
    the undos registered with `on_rollback` run, newest first)."""
    with engine.connect() as connection:
        undos: list[Callable[[], object]] = []
        connection.info[_ON_ROLLBACK] = undos
        try:
            begin_immediate(connection)
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            for undo in reversed(undos):
                undo()
            raise
        finally:
            connection.info.pop(_ON_ROLLBACK, None)


def on_rollback(connection: Connection, undo: Callable[[], object]) -> None:
    """Call `undo` if the `write_transaction` of `connection` rolls back instead of committing.

    Outside a `write_transaction` this is an error: nobody would ever call the undo.
    """
    connection.info[_ON_ROLLBACK].append(undo)


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
        _INSERT_LEASE,
        {
            "project_id": project_id,
            "pool_id": pool_id,
            "number_id": number_id,
            "visitor_id": visitor_id,
            "visit_id": visit_id,
            "leased_at": now,
            "last_heartbeat_at": now,
            "hold_until": hold_until,
            "snapshot": dict(snapshot),
        },
    ).scalar_one()
    return int(lease_id)


def release_lease(
    connection: Connection, lease_id: int, ended_at: datetime, cooldown: timedelta
) -> bool:
    """Close a live lease as ended at `ended_at`, cooling until `ended_at` + cooldown."""
    result = connection.execute(
        _RELEASE_LEASE,
        {"lease_id": lease_id, "ended_at": ended_at, "cooling_until": ended_at + cooldown},
    )
    return result.rowcount == 1


def release_live_lease_of_number(
    connection: Connection, number_id: int, now: datetime, cooldown: timedelta
) -> int | None:
    """Close the number's live lease row, if any, at its end (or now, if it had not ended).

    Returns the closed lease's id.
    """
    row = connection.execute(_LIVE_LEASE_OF_NUMBER, {"number_id": number_id}).first()
    if row is None:
        return None
    release_lease(connection, row.id, min(row.hold_until, now), cooldown)
    return int(row.id)


def extend_lease(
    connection: Connection, lease_id: int, now: datetime, hold_until: datetime
) -> None:
    """Record a heartbeat (or a page view) on a live lease."""
    connection.execute(_EXTEND_LEASE, {"lease_id": lease_id, "now": now, "hold_until": hold_until})


def replace_live_lease(
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
    cooldown: timedelta,
) -> int:
    """Close the number's live lease row, if any (`release_live_lease_of_number`), then write
    the new hold (`insert_lease`); returns its id. One round trip on PostgreSQL."""
    if connection.dialect.name != "postgresql":
        release_live_lease_of_number(connection, number_id, now, cooldown)
        return insert_lease(
            connection,
            project_id=project_id,
            pool_id=pool_id,
            number_id=number_id,
            visitor_id=visitor_id,
            visit_id=visit_id,
            snapshot=snapshot,
            now=now,
            hold_until=hold_until,
        )
    lease_id = connection.execute(
        _REPLACE_LIVE_LEASE,
        {
            "p_project_id": project_id,
            "p_pool_id": pool_id,
            "p_number_id": number_id,
            "p_visitor_id": visitor_id,
            "p_visit_id": visit_id,
            "p_leased_at": now,
            "p_last_heartbeat_at": now,
            "p_hold_until": hold_until,
            "p_snapshot": dict(snapshot),
            "p_now": now,
            "p_cooldown": cooldown,
        },
    ).scalar_one()
    return int(lease_id)


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
