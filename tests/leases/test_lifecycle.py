"""Both lease backends with an injected clock: holds, grace, cool-down, reuse order, history."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ringtrail.domain.pools import AssignmentKind, PoolModel
from ringtrail.leases.base import LeaseBackend
from ringtrail.storage.models import NumberLease, TrackingNumber
from tests.leases.fixtures import T0, PoolFactory, live_lease_numbers, overflow_count

SNAPSHOT = {"source": "google", "medium": "cpc", "campaign": "spring", "gclid": "abc"}


def test_a_live_visitor_keeps_the_same_number_and_no_new_lease_row(
    backend: LeaseBackend, make_pool: PoolFactory, make_visitors: Callable[[int], list[int]]
) -> None:
    pool = make_pool(3)
    (visitor,) = make_visitors(1)
    first = backend.acquire(pool, visitor, None, SNAPSHOT, T0)
    again = backend.acquire(pool, visitor, None, SNAPSHOT, T0 + timedelta(minutes=10))
    assert not first.overflow and not first.reused_existing
    assert again.reused_existing and again.number_id == first.number_id
    assert again.lease_id == first.lease_id and again.e164 == first.e164
    assert again.hold_until == T0 + timedelta(minutes=25)


def test_every_hold_is_recorded_with_the_visit_snapshot(
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(2)
    (visitor,) = make_visitors(1)
    outcome = backend.acquire(pool, visitor, None, SNAPSHOT, T0)
    row = db.get(NumberLease, outcome.lease_id)
    assert row is not None
    assert (row.number_id, row.visitor_id, row.snapshot) == (outcome.number_id, visitor, SNAPSHOT)
    assert (row.leased_at, row.hold_until, row.released_at) == (T0, outcome.hold_until, None)


def test_heartbeat_extends_the_hold_and_the_lease_row(
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(2)
    (visitor,) = make_visitors(1)
    outcome = backend.acquire(pool, visitor, None, SNAPSHOT, T0)
    beat = backend.heartbeat(pool, visitor, T0 + timedelta(minutes=14))
    assert beat is not None and beat.number_id == outcome.number_id
    assert beat.hold_until == T0 + timedelta(minutes=29)
    db.expire_all()
    row = db.get(NumberLease, outcome.lease_id)
    assert row is not None and row.hold_until == beat.hold_until
    assert row.last_heartbeat_at == T0 + timedelta(minutes=14)


def test_a_hold_ends_at_last_heartbeat_plus_grace_not_before(
    backend: LeaseBackend, make_pool: PoolFactory, make_visitors: Callable[[int], list[int]]
) -> None:
    pool = make_pool(1)
    first, second = make_visitors(2)
    backend.acquire(pool, first, None, SNAPSHOT, T0)
    just_before = T0 + timedelta(minutes=15) - timedelta(seconds=1)
    assert backend.heartbeat(pool, first, just_before) is not None
    assert backend.heartbeat(pool, first, just_before + timedelta(minutes=15)) is None
    # still cooling: the other visitor sees the default number
    taken = backend.acquire(pool, second, None, SNAPSHOT, just_before + timedelta(minutes=16))
    assert taken.overflow and taken.e164 == pool.default.e164  # type: ignore[union-attr]


def test_expire_releases_at_hold_end_not_at_now_and_starts_the_cooldown(
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(2)
    (visitor,) = make_visitors(1)
    outcome = backend.acquire(pool, visitor, None, SNAPSHOT, T0)
    assert backend.expire(T0 + timedelta(minutes=14)) == 0
    assert backend.expire(T0 + timedelta(hours=3)) == 1
    db.expire_all()
    row = db.get(NumberLease, outcome.lease_id)
    assert row is not None
    assert row.released_at == T0 + timedelta(minutes=15)
    assert row.cooldown_until == T0 + timedelta(minutes=45)
    assert live_lease_numbers(db, pool) == []


def test_a_released_number_is_not_handed_out_before_its_cooldown_ends(
    backend: LeaseBackend, make_pool: PoolFactory, make_visitors: Callable[[int], list[int]]
) -> None:
    pool = make_pool(1)
    first, second, third = make_visitors(3)
    held = backend.acquire(pool, first, None, SNAPSHOT, T0)
    free_at = T0 + timedelta(minutes=15 + 30)
    assert backend.acquire(pool, second, None, SNAPSHOT, free_at - timedelta(seconds=1)).overflow
    again = backend.acquire(pool, third, None, SNAPSHOT, free_at)
    assert not again.overflow and again.number_id == held.number_id


def test_the_least_recently_released_number_is_reused_first(
    backend: LeaseBackend, make_pool: PoolFactory, make_visitors: Callable[[int], list[int]]
) -> None:
    pool = make_pool(3)
    a, b, c, d = make_visitors(4)
    got_a = backend.acquire(pool, a, None, SNAPSHOT, T0)
    got_b = backend.acquire(pool, b, None, SNAPSHOT, T0 + timedelta(minutes=5))
    got_c = backend.acquire(pool, c, None, SNAPSHOT, T0 + timedelta(minutes=6))
    # b's hold is refreshed later than a's: a's number was released first
    backend.heartbeat(pool, b, T0 + timedelta(minutes=10))
    backend.heartbeat(pool, c, T0 + timedelta(minutes=10))
    later = T0 + timedelta(hours=2)
    assert backend.acquire(pool, d, None, SNAPSHOT, later).number_id == got_a.number_id
    assert got_b.number_id != got_a.number_id != got_c.number_id


def test_never_used_numbers_go_first_by_id(
    backend: LeaseBackend, make_pool: PoolFactory, make_visitors: Callable[[int], list[int]]
) -> None:
    pool = make_pool(4)
    visitors = make_visitors(4)
    got = [backend.acquire(pool, v, None, SNAPSHOT, T0).number_id for v in visitors]
    assert got == sorted(got) and len(set(got)) == 4


def test_an_exhausted_pool_shows_the_default_number_and_counts_an_overflow(
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(1)
    first, second = make_visitors(2)
    backend.acquire(pool, first, None, SNAPSHOT, T0)
    outcome = backend.acquire(pool, second, None, SNAPSHOT, T0)
    assert pool.default is not None
    assert outcome.overflow and outcome.number_id == pool.default.number_id
    assert outcome.lease_id is None and outcome.e164 == pool.default.e164
    assert overflow_count(db, pool) == 1
    assert len(live_lease_numbers(db, pool)) == 1


def test_a_deactivated_or_added_number_is_picked_up_on_reload(
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(2)
    a, b, c = make_visitors(3)
    first_number = db.scalars(
        select(TrackingNumber.id)
        .where(TrackingNumber.pool_id == pool.pool_id, TrackingNumber.is_pool_default.is_(False))
        .order_by(TrackingNumber.id)
    ).first()
    backend.acquire(pool, a, None, SNAPSHOT, T0)  # loads the pool
    db.execute(
        update(TrackingNumber).where(TrackingNumber.id == first_number).values(is_active=False)
    )
    added = TrackingNumber(
        project_id=pool.project_id, e164="+380449990001", kind="pool", pool_id=pool.pool_id
    )
    db.add(added)
    db.commit()
    backend.reload_pool(pool, T0)
    later = T0 + timedelta(hours=2)
    got = {backend.acquire(pool, v, None, SNAPSHOT, later).number_id for v in (b, c)}
    assert first_number not in got and added.id in got


def test_census_counts_held_cooling_and_available(
    backend: LeaseBackend, make_pool: PoolFactory, make_visitors: Callable[[int], list[int]]
) -> None:
    pool = make_pool(3)
    a, b = make_visitors(2)
    backend.acquire(pool, a, None, SNAPSHOT, T0)
    backend.acquire(pool, b, None, SNAPSHOT, T0 + timedelta(minutes=10))
    census = backend.census(pool, T0 + timedelta(minutes=20))
    assert (census.numbers, census.held, census.cooling, census.available) == (3, 1, 1, 1)


def test_backend_agrees_with_the_reference_model_over_random_traffic(
    backend: LeaseBackend,
    make_pool: PoolFactory,
    make_visitors: Callable[[int], list[int]],
    db: Session,
) -> None:
    pool = make_pool(4, grace=5, cooldown=7)
    visitors = make_visitors(7)
    rows = db.execute(
        select(TrackingNumber.id, TrackingNumber.e164).where(
            TrackingNumber.pool_id == pool.pool_id, TrackingNumber.is_pool_default.is_(False)
        )
    )
    model = PoolModel({row[0]: row[1] for row in rows}, pool.timings, pool.default)
    rng = random.Random(20250301)
    now = T0
    for _step in range(300):
        roll = rng.random()
        visitor = rng.choice(visitors)
        if roll < 0.3:
            now += timedelta(minutes=rng.randint(0, 6), seconds=rng.randint(0, 59))
        elif roll < 0.7:
            got = backend.acquire(pool, visitor, None, SNAPSHOT, now)
            expected = model.acquire(str(visitor), now)
            assert (got.number_id, got.e164, got.hold_until) == (
                expected.number_id,
                expected.e164,
                expected.hold_until,
            )
            assert got.overflow == expected.overflow
            assert got.reused_existing == (expected.kind is AssignmentKind.EXISTING)
        else:
            beat = backend.heartbeat(pool, visitor, now)
            assert (beat.hold_until if beat else None) == model.heartbeat(str(visitor), now)
    assert overflow_count(db, pool) == model.overflows
