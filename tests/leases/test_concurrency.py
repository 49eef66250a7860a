"""Races on real PostgreSQL, SQLite and Redis: 200 visitors at once on a pool of 50."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ringtrail.leases.base import LeaseBackend, LeaseOutcome
from tests.leases.fixtures import T0, PoolFactory, live_lease_numbers, overflow_count

VISITORS = 200
POOL_SIZE = 50


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_a_number_is_never_held_twice_under_200_parallel_requests(
    round_: int,
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(POOL_SIZE)
    visitors = make_visitors(VISITORS)
    now = T0 + timedelta(days=round_)
    start = threading.Barrier(32)

    def lease(visitor_id: int) -> LeaseOutcome:
        if visitor_id in visitors[:32]:
            start.wait(timeout=30)
        return backend.acquire(pool, visitor_id, None, {"round": round_}, now)

    with ThreadPoolExecutor(max_workers=32) as executor:
        outcomes = list(executor.map(lease, visitors))

    held = [o for o in outcomes if not o.overflow]
    overflows = [o for o in outcomes if o.overflow]
    assert len(held) == POOL_SIZE and len({o.number_id for o in held}) == POOL_SIZE
    assert len(overflows) == VISITORS - POOL_SIZE
    assert pool.default is not None
    assert {o.e164 for o in overflows} == {pool.default.e164}
    # the database, not just the answers
    live = live_lease_numbers(db, pool)
    assert len(live) == POOL_SIZE and len(set(live)) == POOL_SIZE
    assert set(live) == {o.number_id for o in held}
    assert overflow_count(db, pool) == VISITORS - POOL_SIZE
