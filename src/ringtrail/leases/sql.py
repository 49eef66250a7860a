"""The SQL lease backend: one transaction per lease, a row lock on the number's slot.

PostgreSQL: the free slot is picked and locked with `SELECT ... FOR UPDATE SKIP LOCKED
ORDER BY held_until, number_id LIMIT 1`, so concurrent requests take different numbers
without waiting on each other. SQLite: the same statements inside BEGIN IMMEDIATE, which
serialises writers. In both, the partial unique index on live lease rows is the last guard:
a violation rolls back and retries, and after MAX_ATTEMPTS the visitor gets the default number
(never nothing).

Given the caller's `connection`, a lease is a few statements inside the caller's transaction
(a visit start writes its visit row in the same one): the next free slot is locked and its
number checked in one statement, the lease row inserted and the slot moved on; a conflict
then propagates, and the caller rolls back and asks again without a connection.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ringtrail.domain.pools import BEGINNING_OF_TIME, PoolCensus
from ringtrail.leases import first_visit, history
from ringtrail.leases.base import (
    MAX_ATTEMPTS,
    Heartbeat,
    HistoryLeaseBackend,
    LeaseOutcome,
    NewVisitorStart,
    PoolRef,
    ReloadDue,
)
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


def _next_free_slot(postgres: bool) -> Any:
    """The free slot next in reuse order (locked, skipping locked ones, on PostgreSQL) with
    its number's E.164, NULL when the number was deactivated or left the pool since the last
    sync. The slot is chosen in a subquery so the plan reads the slots index alone."""
    slot = (
        select(slots.c.number_id, slots.c.held_until, slots.c.lease_id)
        .where(slots.c.pool_id == bindparam("pool_id"), slots.c.held_until <= bindparam("free"))
        .order_by(slots.c.held_until, slots.c.number_id)
        .limit(1)
    )
    if postgres:
        slot = slot.with_for_update(skip_locked=True)
    chosen = slot.subquery("slot")
    in_pool = and_(
        numbers.c.id == chosen.c.number_id,
        numbers.c.pool_id == bindparam("pool_id"),
        numbers.c.is_active.is_(True),
        numbers.c.is_pool_default.is_(False),
    )
    return select(
        chosen.c.number_id, chosen.c.held_until, chosen.c.lease_id, numbers.c.e164
    ).select_from(chosen.outerjoin(numbers, in_pool))


_NEXT_FREE_SLOT = {postgres: _next_free_slot(postgres) for postgres in (True, False)}
_TAKE_SLOT = (
    update(slots)
    .where(slots.c.number_id == bindparam("slot_number_id"))
    .values(held_until=bindparam("held_until"), lease_id=bindparam("lease_id"))
)
# PostgreSQL: the lease row and the slot that now points at it, in one statement. No parameter
# is named like a pool_slots column: SQLAlchemy would add it to the UPDATE's SET clause.
_NEW_LEASE = (
    insert(leases)
    .values(
        project_id=bindparam("l_project_id"),
        pool_id=bindparam("l_pool_id"),
        number_id=bindparam("l_number_id"),
        visitor_id=bindparam("l_visitor_id"),
        visit_id=bindparam("l_visit_id"),
        leased_at=bindparam("l_now"),
        last_heartbeat_at=bindparam("l_now"),
        hold_until=bindparam("l_hold_until"),
        snapshot=bindparam("l_snapshot"),
    )
    .returning(leases.c.id, leases.c.number_id)
    .cte("new_lease")
)
_LEASE_AND_TAKE_SLOT = (
    update(slots)
    .where(slots.c.number_id == _NEW_LEASE.c.number_id)
    .values(held_until=bindparam("l_hold_until"), lease_id=_NEW_LEASE.c.id)
    .returning(_NEW_LEASE.c.id)
)
_DROP_SLOT = delete(slots).where(slots.c.number_id == bindparam("slot_number_id"))
_OWN_LIVE_LEASE = select(leases.c.id, leases.c.number_id).where(
    leases.c.visitor_id == bindparam("visitor_id"),
    leases.c.pool_id == bindparam("pool_id"),
    leases.c.released_at.is_(None),
    leases.c.hold_until > bindparam("now"),
)
_EXTEND_SLOT = (
    update(slots)
    .where(
        slots.c.number_id == bindparam("slot_number_id"),
        slots.c.lease_id == bindparam("own_lease_id"),
        slots.c.held_until > bindparam("now"),
    )
    .values(held_until=bindparam("held_until"))
)
_E164 = select(numbers.c.e164).where(numbers.c.id == bindparam("number_id"))


@dataclass(frozen=True)
class _FreeSlot:
    number_id: int
    held_until: datetime
    lease_id: int | None
    e164: str


class SqlLeaseBackend(HistoryLeaseBackend):
    """Leases on the database alone: the embedded default, and PostgreSQL without Redis."""

    name = "sql"

    # --- interface ------------------------------------------------------------------------

    def acquire(
        self,
        pool: PoolRef,
        visitor_id: int,
        visit_id: int | None,
        snapshot: Mapping[str, Any],
        now: datetime,
        *,
        connection: Connection | None = None,
        new_visitor: bool = False,
    ) -> LeaseOutcome:
        if connection is not None:
            if self.schedule.due(pool.pool_id):
                raise ReloadDue(pool.pool_id)
            return self._acquire(connection, pool, visitor_id, visit_id, snapshot, now, new_visitor)
        self.sync_if_due(pool, now)
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

    def start_new_visitor(
        self,
        pool: PoolRef,
        *,
        public_id: str,
        visit: Mapping[str, Any],
        snapshot: Mapping[str, Any],
        now: datetime,
    ) -> NewVisitorStart | None:
        """On PostgreSQL, one statement (leases.first_visit) after the pool's sync if it is
        due; elsewhere None."""
        if not self.can_start_new_visitor(pool):
            return None
        self.sync_if_due(pool, now)
        with self._statements.connect() as connection:
            done = first_visit.start_new_visitor(
                connection, pool, public_id=public_id, visit=visit, snapshot=snapshot, now=now
            )
            if done.stale_slot is not None:
                connection.execute(_DROP_SLOT, {"slot_number_id": done.stale_slot})
        return done.start

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
        new_visitor: bool = False,
    ) -> LeaseOutcome:
        if not new_visitor:  # a visitor created in this transaction holds nothing yet
            own = self._extend_own_hold(connection, pool, visitor_id, now)
            if own is not None:
                e164 = connection.execute(_E164, {"number_id": own.number_id}).scalar_one()
                return LeaseOutcome(own.number_id, e164, False, own.lease_id, own.hold_until, True)
        slot = self._lock_next_free_slot(connection, pool, now)
        if slot is None:
            history.count_overflow(connection, pool.pool_id, now)
            return LeaseOutcome.overflow_to(pool)
        if slot.lease_id is not None:
            history.release_lease(connection, slot.lease_id, slot.held_until, pool.timings.cooldown)
        hold_until = now + pool.timings.grace
        if self._postgres:
            lease_id = connection.execute(
                _LEASE_AND_TAKE_SLOT,
                {
                    "l_project_id": pool.project_id,
                    "l_pool_id": pool.pool_id,
                    "l_number_id": slot.number_id,
                    "l_visitor_id": visitor_id,
                    "l_visit_id": visit_id,
                    "l_now": now,
                    "l_hold_until": hold_until,
                    "l_snapshot": dict(snapshot),
                },
            ).scalar_one()
            return LeaseOutcome(slot.number_id, slot.e164, False, lease_id, hold_until, False)
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
            _TAKE_SLOT,
            {"slot_number_id": slot.number_id, "held_until": hold_until, "lease_id": lease_id},
        )
        return LeaseOutcome(slot.number_id, slot.e164, False, lease_id, hold_until, False)

    def _lock_next_free_slot(
        self, connection: Connection, pool: PoolRef, now: datetime
    ) -> _FreeSlot | None:
        """Lock the free slot next in reuse order, skipping (and dropping) slots of numbers
        that were deactivated or left the pool since the last sync."""
        query = _NEXT_FREE_SLOT[self._postgres]
        params = {"pool_id": pool.pool_id, "free": now - pool.timings.cooldown}
        while True:
            slot = connection.execute(query, params).first()
            if slot is None:
                return None
            if slot.e164 is not None:
                return _FreeSlot(slot.number_id, slot.held_until, slot.lease_id, slot.e164)
            connection.execute(_DROP_SLOT, {"slot_number_id": slot.number_id})

    def _extend_own_hold(
        self, connection: Connection, pool: PoolRef, visitor_id: int, now: datetime
    ) -> Heartbeat | None:
        own = connection.execute(
            _OWN_LIVE_LEASE, {"visitor_id": visitor_id, "pool_id": pool.pool_id, "now": now}
        ).first()
        if own is None:
            return None
        hold_until = now + pool.timings.grace
        # The slot row is the lock: extend only if this lease still owns the number.
        extended = connection.execute(
            _EXTEND_SLOT,
            {
                "slot_number_id": own.number_id,
                "own_lease_id": own.id,
                "now": now,
                "held_until": hold_until,
            },
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
