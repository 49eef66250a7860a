"""Pool fixtures shared by lease, service and API tests: a pool of numbers and visitors,
plus database checks of live leases and overflow counts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.pools import DefaultNumber, PoolTimings
from ringtrail.leases.base import PoolRef
from ringtrail.storage.models import NumberLease, Pool, PoolOverflow, TrackingNumber, Visitor
from tests.conftest import World

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TIMINGS = PoolTimings(grace=timedelta(minutes=15), cooldown=timedelta(minutes=30))
PoolFactory = Callable[..., PoolRef]


@pytest.fixture
def make_pool(db: Session, world: World) -> PoolFactory:
    """Builds a pool of `size` numbers plus a default number in our project."""
    counter = iter(range(1, 1_000_000))

    def build(size: int, *, grace: int = 15, cooldown: int = 30) -> PoolRef:
        project = world.ours.project
        pool = Pool(
            project_id=project.id,
            name=f"pool {next(counter)}",
            grace_minutes=grace,
            cooldown_minutes=cooldown,
        )
        db.add(pool)
        db.flush()
        base = pool.id * 10_000
        for index in range(size):
            db.add(
                TrackingNumber(
                    project_id=project.id,
                    e164=f"+38044{base + index:07d}",
                    kind="pool",
                    pool_id=pool.id,
                )
            )
        default = TrackingNumber(
            project_id=project.id,
            e164=f"+38044{base + 9_999:07d}",
            kind="pool",
            pool_id=pool.id,
            is_pool_default=True,
        )
        db.add(default)
        db.commit()
        return PoolRef(
            project_id=project.id,
            pool_id=pool.id,
            timings=PoolTimings(timedelta(minutes=grace), timedelta(minutes=cooldown)),
            default=DefaultNumber(default.id, default.e164),
        )

    return build


@pytest.fixture
def make_visitors(db: Session, world: World) -> Callable[[int], list[int]]:
    """Creates `count` visitors of our project and returns their ids."""

    def build(count: int) -> list[int]:
        rows = [
            Visitor(
                project_id=world.ours.project.id,
                public_id=uuid.uuid4().hex,
                first_seen_at=T0,
                last_seen_at=T0,
            )
            for _ in range(count)
        ]
        db.add_all(rows)
        db.commit()
        return [row.id for row in rows]

    return build


def live_lease_numbers(db: Session, pool: PoolRef) -> list[int]:
    """Numbers with a live (unreleased) lease row in the pool, straight from the database."""
    db.expire_all()
    return list(
        db.scalars(
            select(NumberLease.number_id).where(
                NumberLease.pool_id == pool.pool_id, NumberLease.released_at.is_(None)
            )
        )
    )


def overflow_count(db: Session, pool: PoolRef) -> int:
    """The pool's overflow total across all hours, from the database."""
    db.expire_all()
    total = db.scalar(
        select(func.coalesce(func.sum(PoolOverflow.count), 0)).where(
            PoolOverflow.pool_id == pool.pool_id
        )
    )
    return int(total or 0)
