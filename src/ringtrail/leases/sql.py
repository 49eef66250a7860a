"""The SQL lease backend: one transaction per lease, a row lock on the number's slot.

PostgreSQL: the free slot is picked and locked with `SELECT ... FOR UPDATE SKIP LOCKED
ORDER BY held_until, number_id LIMIT 1`, so concurrent requests take different numbers
without waiting on each other. SQLite: the same statements inside BEGIN IMMEDIATE, which
serialises writers. In both, the partial unique index on live lease rows is the last guard:
a violation rolls back and retries, and after MAX_ATTEMPTS the visitor gets the default number
(never nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ringtrail.domain.pools import BEGINNING_OF_TIME, PoolCensus
from ringtrail.leases import history
from ringtrail.leases.base import MAX_ATTEMPTS, Heartbeat, LeaseBackend, LeaseOutcome, PoolRef
from ringtrail.leases.sync import SyncSchedule
from ringtrail.storage.models import NumberLease, PoolSlot, TrackingNumber
from ringtrail.storage.models.base import UTCDateTime

log = logging.getLogger(__name__)

slots = cast(Table, PoolSlot.__table__)
numbers = cast(Table, TrackingNumber.__table__)
leases = cast(Table, NumberLease.__table__)


def _pool_numbers(pool_id: int) -> Any:
    """The numbers a pool hands out: active, its own, not its default."""
    return and_(
        numbers.c.pool_id == pool_id,
        numbers.c.is_active.is_(True),
        numbers.c.is_pool_default.is_(False),
    )


def sync_slots(connection: Connection, pool_id: int) -> None:
    """Give every number of the pool a slot and drop slots of numbers that left it (or were
    switched off).

    A new slot starts from the number's history: its latest hold end (1970 if never held)
    and its live lease, so a rebuilt table continues where the old one stopped.
    """
    in_pool = _pool_numbers(pool_id)
    latest_end = (
        select(func.max(leases.c.hold_until))
        .where(leases.c.number_id == numbers.c.id)
        .scalar_subquery()
    )
    live_lease = (
        select(leases.c.id)
        .where(leases.c.number_id == numbers.c.id, leases.c.released_at.is_(None))
        .scalar_subquery()
    )
    missing = select(
        numbers.c.id,
        numbers.c.pool_id,
        func.coalesce(latest_end, literal(BEGINNING_OF_TIME, UTCDateTime())),
        live_lease,
    ).where(in_pool, ~exists().where(slots.c.number_id == numbers.c.id))
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(slots)
        .from_select(["number_id", "pool_id", "held_until", "lease_id"], missing)
        .on_conflict_do_nothing()
    )
    connection.execute(
        delete(slots).where(
            slots.c.pool_id == pool_id,
            ~exists().where(numbers.c.id == slots.c.number_id, in_pool),
        )
    )


@dataclass(frozen=True)
class _FreeSlot:
    number_id: int
    held_until: datetime
    lease_id: int | None
    e164: str


class SqlLeaseBackend(LeaseBackend):
    """Leases on the database alone: the embedded default, and PostgreSQL without Redis."""

    name = "sql"

    def __init__(self, engine: Engine, schedule: SyncSchedule | None = None) -> None:
        self.engine = engine
        self.schedule = schedule or SyncSchedule()
        self._postgres = engine.dialect.name == "postgresql"

    # --- interface ------------------------------------------------------------------------

    def acquire(
        self,
        pool: PoolRef,
        visitor_id: int,
        visit_id: int | None,
        snapshot: Mapping[str, Any],
        now: datetime,
    ) -> LeaseOutcome:
        self.schedule.run(pool.pool_id, lambda: self.reload_pool(pool, now))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with history.write_transaction(self.engine) as connection:
                    return self._acquire(connection, pool, visitor_id, visit_id, snapshot, now)
            except (IntegrityError, OperationalError) as exc:
                if not _retryable(exc):
                    raise
                log.info("lease conflict on pool %s (attempt %s): %s", pool.pool_id, attempt, exc)
                self.reload_pool(pool, now)
        log.warning("pool %s: no lease after %s attempts; showing default", pool.pool_id, attempt)
        with history.write_transaction(self.engine) as connection:
            history.count_overflow(connection, pool.pool_id, now)
        return LeaseOutcome.overflow_to(pool)

    def heartbeat(self, pool: PoolRef, visitor_id: int, now: datetime) -> Heartbeat | None:
        with history.write_transaction(self.engine) as connection:
            return self._extend_own_hold(connection, pool, visitor_id, now)

    def expire(self, now: datetime) -> int:
        with history.write_transaction(self.engine) as connection:
            return history.close_ended_leases(connection, now)

    def census(self, pool: PoolRef, now: datetime) -> PoolCensus:
        # Read-only (callers may hold a write transaction): a number without a slot yet has
        # never been leased through this backend and counts as available.
        free_before = now - pool.timings.cooldown
        held_until = slots.c.held_until
        held = case((held_until > now, 1), else_=0)
        cooling = case((and_(held_until <= now, held_until > free_before), 1), else_=0)
        row = self._read(
            select(
                func.count(),
                func.coalesce(func.sum(held), 0),
                func.coalesce(func.sum(cooling), 0),
            )
            .select_from(numbers.outerjoin(slots, slots.c.number_id == numbers.c.id))
            .where(_pool_numbers(pool.pool_id))
        )
        total, held_count, cooling_count = (int(value) for value in row)
        return PoolCensus(
            numbers=total,
            held=held_count,
            cooling=cooling_count,
            available=total - held_count - cooling_count,
        )

    def reload_pool(self, pool: PoolRef, now: datetime) -> None:
        with history.write_transaction(self.engine) as connection:
            sync_slots(connection, pool.pool_id)

    # --- steps ----------------------------------------------------------------------------

    def _acquire(
        self,
        connection: Connection,
        pool: PoolRef,
        visitor_id: int,
        visit_id: int | None,
        snapshot: Mapping[str, Any],
        now: datetime,
    ) -> LeaseOutcome:
        own = self._extend_own_hold(connection, pool, visitor_id, now)
        if own is not None:
            e164 = connection.execute(
                select(numbers.c.e164).where(numbers.c.id == own.number_id)
            ).scalar_one()
            return LeaseOutcome(own.number_id, e164, False, own.lease_id, own.hold_until, True)
        slot = self._lock_next_free_slot(connection, pool, now)
        if slot is None:
            history.count_overflow(connection, pool.pool_id, now)
            return LeaseOutcome.overflow_to(pool)
        if slot.lease_id is not None:
            history.release_lease(connection, slot.lease_id, slot.held_until, pool.timings.cooldown)
        hold_until = now + pool.timings.grace
        lease_id = history.insert_lease(
            connection,
            project_id=pool.project_id,
            pool_id=pool.pool_id,
            number_id=slot.number_id,
            visitor_id=visitor_id,
            visit_id=visit_id,
            snapshot=snapshot,
            now=now,
            hold_until=hold_until,
        )
        connection.execute(
            update(slots)
            .where(slots.c.number_id == slot.number_id)
            .values(held_until=hold_until, lease_id=lease_id)
        )
        return LeaseOutcome(slot.number_id, slot.e164, False, lease_id, hold_until, False)

    def _lock_next_free_slot(self, connection: Connection, pool: PoolRef, now: datetime) -> Any:
        """Lock the free slot next in reuse order, skipping (and dropping) slots of numbers
        that were deactivated or left the pool since the last sync."""
        query = (
            select(slots.c.number_id, slots.c.held_until, slots.c.lease_id)
            .where(
                slots.c.pool_id == pool.pool_id,
                slots.c.held_until <= now - pool.timings.cooldown,
            )
            .order_by(slots.c.held_until, slots.c.number_id)
            .limit(1)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        while True:
            slot = connection.execute(query).first()
            if slot is None:
                return None
            e164 = connection.execute(
                select(numbers.c.e164).where(
                    numbers.c.id == slot.number_id, _pool_numbers(pool.pool_id)
                )
            ).scalar()
            if e164 is not None:
                return _FreeSlot(slot.number_id, slot.held_until, slot.lease_id, e164)
            connection.execute(delete(slots).where(slots.c.number_id == slot.number_id))

    def _extend_own_hold(
        self, connection: Connection, pool: PoolRef, visitor_id: int, now: datetime
    ) -> Heartbeat | None:
        own = connection.execute(
            select(leases.c.id, leases.c.number_id).where(
                leases.c.visitor_id == visitor_id,
                leases.c.pool_id == pool.pool_id,
                leases.c.released_at.is_(None),
                leases.c.hold_until > now,
            )
        ).first()
        if own is None:
            return None
        hold_until = now + pool.timings.grace
        # The slot row is the lock: extend only if this lease still owns the number.
        extended = connection.execute(
            update(slots)
            .where(
                slots.c.number_id == own.number_id,
                slots.c.lease_id == own.id,
                slots.c.held_until > now,
            )
            .values(held_until=hold_until)
        )
        if extended.rowcount != 1:
            return None
        history.extend_lease(connection, own.id, now, hold_until)
        return Heartbeat(number_id=own.number_id, lease_id=own.id, hold_until=hold_until)

    def _read(self, query: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(query).one()


def _retryable(exc: DBAPIError) -> bool:
    """Unique violations, serialisation failures, deadlocks and SQLite busy errors."""
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None)
    if code in {"40001", "40P01", "55P03"}:
        return True
    return "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()
