"""The SQL lease backend's last guards: the schema's one-live-hold rule and retry exhaustion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringtrail.leases.base import MAX_ATTEMPTS, LeaseOutcome, PoolRef
from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.runtime import Runtime
from ringtrail.storage.models import NumberLease, TrackingNumber
from tests.leases.fixtures import T0, PoolFactory, live_lease_numbers, overflow_count


def lease_row(pool: PoolRef, number_id: int, visitor_id: int, **values: Any) -> NumberLease:
    return NumberLease(
        project_id=pool.project_id,
        pool_id=pool.pool_id,
        number_id=number_id,
        visitor_id=visitor_id,
        leased_at=T0,
        last_heartbeat_at=T0,
        hold_until=T0 + timedelta(minutes=15),
        snapshot={},
        **values,
    )


def test_the_schema_refuses_a_second_live_hold_on_one_number(
    make_pool: PoolFactory, make_visitors: Callable[[int], list[int]], db: Session
) -> None:
    pool = make_pool(1)
    first, second = make_visitors(2)
    number_id = db.scalars(
        select(TrackingNumber.id).where(
            TrackingNumber.pool_id == pool.pool_id, TrackingNumber.is_pool_default.is_(False)
        )
    ).one()
    # released holds are history: any number of them may sit beside one live hold
    db.add(lease_row(pool, number_id, first, released_at=T0, cooldown_until=T0))
    db.add(lease_row(pool, number_id, first, released_at=T0, cooldown_until=T0))
    db.add(lease_row(pool, number_id, first))
    db.commit()
    db.add(lease_row(pool, number_id, second))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert live_lease_numbers(db, pool) == [number_id]


class AlwaysConflicting(SqlLeaseBackend):
    """A backend whose every lease attempt loses a race on the unique index."""

    attempts = 0

    def _acquire(self, *args: Any, **kwargs: Any) -> LeaseOutcome:
        self.attempts += 1
        raise IntegrityError("INSERT INTO number_leases ...", {}, Exception("unique violation"))


def test_a_lease_that_keeps_conflicting_answers_the_default_number_never_nothing(
    runtime: Runtime,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(2)
    (visitor,) = make_visitors(1)
    backend = AlwaysConflicting(runtime.engine)
    outcome = backend.acquire(pool, visitor, None, {}, T0)
    assert backend.attempts == MAX_ATTEMPTS
    assert pool.default is not None
    assert outcome.overflow and outcome.e164 == pool.default.e164
    assert outcome.lease_id is None
    assert overflow_count(db, pool) == 1
    assert live_lease_numbers(db, pool) == []
