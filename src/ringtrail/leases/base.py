"""The lease backend interface (acquire, heartbeat, expire, census), what every backend returns,
and what the two shipped backends share (`HistoryLeaseBackend`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from ringtrail.domain.pools import DefaultNumber, PoolCensus, PoolTimings
from ringtrail.leases.sync import SyncSchedule

MAX_ATTEMPTS = 5
"""How often a backend retries a lease after a conflict before answering with the default."""


class ReloadDue(Exception):
    """A lease asked inside the caller's transaction found the pool due for a reload, which
    needs a transaction of its own: roll back and ask again without a connection."""

    def __init__(self, pool_id: int) -> None:
        super().__init__(f"pool {pool_id} is due for a reload")
        self.pool_id = pool_id


@dataclass(frozen=True)
class PoolRef:
    """A pool as leasing needs it: whose it is, its hold times and its default number."""

    project_id: int
    pool_id: int
    timings: PoolTimings
    default: DefaultNumber | None = None


@dataclass(frozen=True)
class LeaseOutcome:
    """The number a visitor sees after a lease request.

    On an overflow `number_id`/`e164` are the pool's default number (None when the pool has
    none) and `lease_id`/`hold_until` are None. `reused_existing` means the visitor's own live
    hold was found and extended: the same number, no new lease row.
    """

    number_id: int | None
    e164: str | None
    overflow: bool
    lease_id: int | None
    hold_until: datetime | None
    reused_existing: bool

    @classmethod
    def overflow_to(cls, pool: PoolRef) -> LeaseOutcome:
        """The answer when nothing is free: the pool's default number."""
        default = pool.default
        return cls(
            number_id=default.number_id if default else None,
            e164=default.e164 if default else None,
            overflow=True,
            lease_id=None,
            hold_until=None,
            reused_existing=False,
        )


@dataclass(frozen=True)
class Heartbeat:
    """A live hold after a heartbeat extended it."""

    number_id: int
    lease_id: int | None
    hold_until: datetime


@dataclass(frozen=True)
class NewVisitorStart:
    """What `start_new_visitor` wrote: the new rows' ids and the lease. `outcome` None means
    the number chosen had left the pool: the visit is written, no number was leased."""

    visitor_id: int
    visit_id: int
    outcome: LeaseOutcome | None


class LeaseBackend(ABC):
    """Hands out a pool's numbers atomically and writes every hold to `number_leases`.

    Implementations must never give one number to two live holders, never answer with
    nothing (a conflict retries, then falls back to the default number), and record an
    overflow each time a visitor is shown the default number.
    """

    name: str

    @abstractmethod
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
        """The visitor's live hold (extended), else a free number now held, else an overflow.

        Without `connection` the backend writes the history in transactions of its own and
        retries conflicts. With one (from `history.write_transaction`) it writes inside the
        caller's transaction and does not retry: any error (ReloadDue included) means the
        caller must roll back, and may then ask again without a connection; work outside the
        database is undone on that rollback. `new_visitor` says the visitor was created in
        that transaction, so it holds nothing yet.
        """

    def can_start_new_visitor(self, pool: PoolRef) -> bool:
        """Whether `start_new_visitor` would write anything for `pool` now (a cheap check)."""
        return False

    def start_new_visitor(
        self,
        pool: PoolRef,
        *,
        public_id: str,
        visit: Mapping[str, Any],
        snapshot: Mapping[str, Any],
        now: datetime,
    ) -> NewVisitorStart | None:
        """Optional fast path: write a new visitor, its first visit (`visit`: the row's values
        by column) and its lease at once, committed. None when this backend cannot here (the
        caller then writes the visit and calls `acquire`); an error means nothing was written.
        """
        return None

    @abstractmethod
    def heartbeat(self, pool: PoolRef, visitor_id: int, now: datetime) -> Heartbeat | None:
        """Extend the visitor's live hold to now + grace; None when they hold nothing."""

    @abstractmethod
    def expire(self, now: datetime) -> int:
        """Release every hold that ended before `now`; returns how many lease rows it closed."""

    @abstractmethod
    def census(self, pool: PoolRef, now: datetime) -> PoolCensus:
        """How many of the pool's numbers are held, cooling and available at `now`."""

    @abstractmethod
    def reload_pool(self, pool: PoolRef, now: datetime) -> None:
        """Pick up numbers added to, moved out of or removed from the pool."""


class HistoryLeaseBackend(LeaseBackend):
    """What both shipped backends share: the lease history in SQL (`engine`), the pool sync
    schedule, and a new visitor's one-statement start on PostgreSQL (`leases.first_visit`).

    `statement_engine` (storage.db.make_statement_engine) runs those starts; without one they
    run on `engine`'s connections in autocommit mode.
    """

    def __init__(
        self,
        engine: Engine,
        schedule: SyncSchedule | None = None,
        *,
        statement_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.schedule = schedule or SyncSchedule()
        self._postgres = engine.dialect.name == "postgresql"
        self._statements = statement_engine or engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )

    def can_start_new_visitor(self, pool: PoolRef) -> bool:
        """PostgreSQL only."""
        return self._postgres

    def sync_if_due(self, pool: PoolRef, now: datetime) -> None:
        """Load the pool's numbers if its periodic sync is due. Outside any transaction: the
        first load makes every caller wait for it; a refresh is done by one caller while the
        others go on with the numbers already loaded (`SyncSchedule.run`)."""
        self.schedule.run(pool.pool_id, lambda: self.reload_pool(pool, now))
