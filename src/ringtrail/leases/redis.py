"""The Redis lease backend: live holds in Redis (atomic Lua), the history in SQL.

Trade-off: a lease is one Redis round trip plus a short SQL transaction that only appends
(close the number's previous lease row, insert the new one); no row lock is held while the
number is chosen, so many app processes lease from one pool without queueing on the
database. Redis is the authority on who holds what *now*; SQL keeps what attribution reads.
If Redis loses its data, the pool is reloaded from the SQL history on the next request
(holds and release times come back from `number_leases`); holds started in the last instant
before the loss may be handed out twice in that case. If the SQL write fails, the Redis hold
is undone and the error propagates. Inside the caller's transaction (a visit start passes its
`connection`) the lease row is written there and the hold confirmed at once; the undo is
registered with `history.on_rollback`, so a rollback of that transaction gives the number back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import redis
from sqlalchemy import Connection, Engine, Table, and_, func, select
from sqlalchemy.exc import IntegrityError

from ringtrail.domain.pools import BEGINNING_OF_TIME, PoolCensus
from ringtrail.leases import first_visit, history, redis_scripts
from ringtrail.leases.base import (
    MAX_ATTEMPTS,
    Heartbeat,
    HistoryLeaseBackend,
    LeaseOutcome,
    NewVisitorStart,
    PoolRef,
    ReloadDue,
)
from ringtrail.leases.sync import SyncSchedule
from ringtrail.storage.models import NumberLease, TrackingNumber

log = logging.getLogger(__name__)

numbers = cast(Table, TrackingNumber.__table__)
leases = cast(Table, NumberLease.__table__)
DEFAULT_PREFIX = "ringtrail:leases"


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (Redis scores)."""
    return int(moment.timestamp() * 1000)


def from_ms(value: str | bytes | float) -> datetime:
    """The inverse of to_ms."""
    return datetime.fromtimestamp(float(value) / 1000, tz=UTC)


def member(number_id: int) -> str:
    """A number id as a zset member whose text order is its numeric order."""
    return f"{number_id:019d}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLeaseBackend(HistoryLeaseBackend):
    """Leases with Redis holding the live state; needs `redis_url` (see leases.factory)."""

    name = "redis"

    def __init__(
        self,
        client: redis.Redis,
        engine: Engine,
        *,
        prefix: str = DEFAULT_PREFIX,
        schedule: SyncSchedule | None = None,
        statement_engine: Engine | None = None,
    ) -> None:
        super().__init__(engine, schedule, statement_engine=statement_engine)
        self.client = client
        self.prefix = prefix
        self._acquire = client.register_script(redis_scripts.ACQUIRE)
        self._confirm = client.register_script(redis_scripts.CONFIRM)
        self._undo = client.register_script(redis_scripts.UNDO)
        self._heartbeat = client.register_script(redis_scripts.HEARTBEAT)
        self._release_ended = client.register_script(redis_scripts.RELEASE_ENDED)
        self._load = client.register_script(redis_scripts.LOAD)
        self._census = client.register_script(redis_scripts.CENSUS)

    def keys(self, pool: PoolRef) -> list[str]:
        """The pool's keys, namespaced by project and pool, in the scripts' KEYS order."""
        return self.keys_for(pool.project_id, pool.pool_id)

    def keys_for(self, project_id: int, pool_id: int) -> list[str]:
        """`keys` by ids; the braces keep one pool's keys in one Redis Cluster slot."""
        tag = f"{{p{project_id}:pool{pool_id}}}"
        return [f"{self.prefix}:{tag}:{name}" for name in redis_scripts.KEY_NAMES]

    @property
    def pools_key(self) -> str:
        """A set of every loaded pool, as "project:pool", for the expiry sweep."""
        return f"{self.prefix}:pools"

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
        if connection is None:
            self.sync_if_due(pool, now)
        elif self.schedule.due(pool.pool_id):
            raise ReloadDue(pool.pool_id)
        keys = self.keys(pool)
        args = [to_ms(now), _ms(pool.timings.grace), _ms(pool.timings.cooldown), visitor_id]
        for _attempt in range(MAX_ATTEMPTS):
            reply = [_text(part) for part in self._acquire(keys=keys, args=args)]
            if reply[0] == "unloaded":
                self.reload_pool(pool, now)
                continue
            if reply[0] == "overflow":
                with self._transaction(connection) as sql:
                    history.count_overflow(sql, pool.pool_id, now)
                return LeaseOutcome.overflow_to(pool)
            number_id, hold_until = int(reply[1]), from_ms(reply[2])
            if reply[0] == "existing":
                lease_id = int(reply[3]) if reply[3] else None
                if lease_id is not None:
                    with self._transaction(connection) as sql:
                        history.extend_lease(sql, lease_id, now, hold_until)
                e164 = reply[4] or self._e164(number_id)
                return LeaseOutcome(number_id, e164, False, lease_id, hold_until, True)
            released_ms = reply[3]

            def undo(number_id: int = number_id, released_ms: str = released_ms) -> None:
                self._undo(keys=keys, args=[member(number_id), visitor_id, released_ms])

            if connection is None:
                try:
                    lease_id = self._record(
                        pool, number_id, visitor_id, visit_id, snapshot, now, hold_until
                    )
                except BaseException:
                    undo()
                    raise
            else:
                history.on_rollback(connection, undo)
                lease_id = self._write_lease(
                    connection, pool, number_id, visitor_id, visit_id, snapshot, now, hold_until
                )
            self._confirm(keys=keys, args=[member(number_id), visitor_id, lease_id])
            return LeaseOutcome(number_id, reply[4], False, lease_id, hold_until, False)
        log.warning("pool %s could not be loaded into Redis; showing default", pool.pool_id)
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
        """On PostgreSQL: the visitor and visit (one statement, drawing the lease id), the hold
        in Redis with that id, the lease row (one statement). A failure after the visit is
        written undoes the hold and answers with no outcome: the caller leases the usual way.
        The pool's sync, if due, comes first."""
        if not self.can_start_new_visitor(pool):
            return None
        self.sync_if_due(pool, now)
        with self._statements.connect() as connection:
            rows = first_visit.insert_visitor_and_visit(
                connection, pool.project_id, public_id=public_id, visit=visit, now=now
            )
            keys = self.keys(pool)
            timings = pool.timings
            args = [to_ms(now), _ms(timings.grace), _ms(timings.cooldown), rows.visitor_id]
            try:
                held = self._acquire(keys=keys, args=[*args, rows.lease_id])
                reply = [_text(part) for part in held]
                if reply[0] == "overflow":
                    history.count_overflow(connection, pool.pool_id, now)
                    outcome = LeaseOutcome.overflow_to(pool)
                    return NewVisitorStart(rows.visitor_id, rows.visit_id, outcome)
                if reply[0] != "new":  # the pool is not in Redis: the usual way reloads it
                    return NewVisitorStart(rows.visitor_id, rows.visit_id, None)
            except Exception:
                log.exception("lease for new visitor %s failed; leasing again", rows.visitor_id)
                return NewVisitorStart(rows.visitor_id, rows.visit_id, None)
            number_id, hold_until = int(reply[1]), from_ms(reply[2])
            try:
                first_visit.write_lease(
                    connection,
                    pool,
                    rows,
                    number_id=number_id,
                    snapshot=snapshot,
                    now=now,
                    hold_until=hold_until,
                )
            except Exception:
                log.exception("lease row %s not written; giving the number back", rows.lease_id)
                self._undo(keys=keys, args=[member(number_id), rows.visitor_id, reply[3]])
                return NewVisitorStart(rows.visitor_id, rows.visit_id, None)
        outcome = LeaseOutcome(number_id, reply[4], False, rows.lease_id, hold_until, False)
        return NewVisitorStart(rows.visitor_id, rows.visit_id, outcome)

    def heartbeat(self, pool: PoolRef, visitor_id: int, now: datetime) -> Heartbeat | None:
        keys = self.keys(pool)
        args = [to_ms(now), _ms(pool.timings.grace), visitor_id]
        for _attempt in range(MAX_ATTEMPTS):
            reply = self._heartbeat(keys=keys, args=args)
            if not reply or _text(reply[0]) != "unloaded":
                break
            self.reload_pool(pool, now)  # Redis lost the pool: its holds come from SQL
        else:
            log.warning("pool %s could not be loaded into Redis; heartbeat refused", pool.pool_id)
            return None
        if not reply:
            return None
        number_id, hold_until = int(_text(reply[0])), from_ms(_text(reply[1]))
        lease_id = int(_text(reply[2])) if _text(reply[2]) else None
        if lease_id is not None:
            with history.write_transaction(self.engine) as connection:
                history.extend_lease(connection, lease_id, now, hold_until)
        return Heartbeat(number_id=number_id, lease_id=lease_id, hold_until=hold_until)

    def expire(self, now: datetime) -> int:
        for entry in self.client.smembers(self.pools_key):
            project_id, pool_id = (int(part) for part in _text(entry).split(":"))
            self._release_ended(keys=self.keys_for(project_id, pool_id), args=[to_ms(now)])
        with history.write_transaction(self.engine) as connection:
            return history.close_ended_leases(connection, now)

    def census(self, pool: PoolRef, now: datetime) -> PoolCensus:
        self.sync_if_due(pool, now)
        held, cooling, available = (
            int(value)
            for value in self._census(
                keys=self.keys(pool), args=[to_ms(now), _ms(pool.timings.cooldown)]
            )
        )
        return PoolCensus(held + cooling + available, held, cooling, available)

    def reload_pool(self, pool: PoolRef, now: datetime) -> None:
        with self.engine.connect() as connection:
            current = connection.execute(
                select(numbers.c.id, numbers.c.e164)
                .where(
                    numbers.c.pool_id == pool.pool_id,
                    numbers.c.is_active.is_(True),
                    numbers.c.is_pool_default.is_(False),
                )
                .order_by(numbers.c.id)
            ).all()
            fingerprint = hashlib.sha256(
                ";".join(f"{row.id}={row.e164}" for row in current).encode()
            ).hexdigest()
            keys = self.keys(pool)
            if _text(self.client.hget(keys[6], "fingerprint") or b"") == fingerprint:
                return
            args: list[Any] = [to_ms(now), fingerprint]
            for row in self._history(connection, pool.pool_id, current):
                args.extend(row)
        self._load(keys=keys, args=args)
        self.client.sadd(self.pools_key, f"{pool.project_id}:{pool.pool_id}")
        log.info("pool %s loaded into Redis: %s numbers", pool.pool_id, len(current))

    # --- steps ----------------------------------------------------------------------------

    def _record(
        self,
        pool: PoolRef,
        number_id: int,
        visitor_id: int,
        visit_id: int | None,
        snapshot: Mapping[str, Any],
        now: datetime,
        hold_until: datetime,
    ) -> int:
        """`_write_lease` in a transaction of its own; retry on a clash."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with history.write_transaction(self.engine) as connection:
                    return self._write_lease(
                        connection, pool, number_id, visitor_id, visit_id, snapshot, now, hold_until
                    )
            except IntegrityError:
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _write_lease(
        connection: Connection,
        pool: PoolRef,
        number_id: int,
        visitor_id: int,
        visit_id: int | None,
        snapshot: Mapping[str, Any],
        now: datetime,
        hold_until: datetime,
    ) -> int:
        """Close the number's previous lease row, then write the new one."""
        return history.replace_live_lease(
            connection,
            project_id=pool.project_id,
            pool_id=pool.pool_id,
            number_id=number_id,
            visitor_id=visitor_id,
            visit_id=visit_id,
            snapshot=snapshot,
            now=now,
            hold_until=hold_until,
            cooldown=pool.timings.cooldown,
        )

    @contextmanager
    def _transaction(self, connection: Connection | None) -> Iterator[Connection]:
        """The caller's transaction if it gave one, else one of this backend's own."""
        if connection is not None:
            yield connection
            return
        with history.write_transaction(self.engine) as own:
            yield own

    def _history(self, connection: Any, pool_id: int, current: Sequence[Any]) -> list[list[Any]]:
        """Per number: id, e164, last hold end (ms), live holder, live hold end, lease id."""
        ids = [row.id for row in current]
        last_end: dict[int, datetime] = {}
        live: dict[int, Any] = {}
        if ids:
            ends = select(leases.c.number_id, func.max(leases.c.hold_until)).where(
                leases.c.number_id.in_(ids)
            )
            last_end = {
                row[0]: row[1] for row in connection.execute(ends.group_by(leases.c.number_id))
            }
            live_rows = connection.execute(
                select(
                    leases.c.number_id, leases.c.visitor_id, leases.c.hold_until, leases.c.id
                ).where(and_(leases.c.number_id.in_(ids), leases.c.released_at.is_(None)))
            )
            live = {row.number_id: row for row in live_rows}
        out: list[list[Any]] = []
        for row in current:
            holder = live.get(row.id)
            ended = last_end.get(row.id) or BEGINNING_OF_TIME
            out.append(
                [
                    member(row.id),
                    row.e164,
                    to_ms(ended) if ended > BEGINNING_OF_TIME else 0,
                    str(holder.visitor_id) if holder and holder.visitor_id else "",
                    to_ms(holder.hold_until) if holder else 0,
                    str(holder.id) if holder else "",
                ]
            )
        return out

    def _e164(self, number_id: int) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(numbers.c.e164).where(numbers.c.id == number_id)
            ).scalar()
            return str(value) if value is not None else None


def _ms(delta: Any) -> int:
    return int(delta.total_seconds() * 1000)
