"""Pools as a use case: summaries for many pools at once and all-or-nothing creation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.errors import Conflict, InvalidInput
from ringtrail.services.pools import change_pool, create_pool, list_pools, summarize_pools
from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Pool, Project, TrackingNumber
from tests.conftest import make_tenant


@pytest.fixture
def project(db: Session) -> Project:
    tenant = make_tenant(db, "Acme Realty")
    db.commit()
    return tenant.project


def test_summaries_count_each_pools_numbers_and_name_its_default(
    db: Session, project: Project
) -> None:
    big = create_pool(db, project, {"name": "Big"}, numbers=[f"044 123 45 6{i}" for i in range(5)])
    small = create_pool(db, project, {"name": "Small"}, default_number="044 123 45 70")
    empty = create_pool(db, project, {"name": "Empty"})
    add_number(db, project, {"number": "044 123 45 71"})  # static: in no pool
    summaries = summarize_pools(db, list_pools(db, project))
    assert [(s.pool.id, s.numbers_count, s.default_number) for s in summaries] == [
        (big.id, 5, None),
        (small.id, 1, "+380441234570"),
        (empty.id, 0, None),
    ]
    assert summarize_pools(db, []) == []


def test_a_taken_number_in_the_list_writes_nothing(db: Session, project: Project) -> None:
    add_number(db, project, {"number": "044 123 45 62"})
    with pytest.raises(Conflict, match=r"numbers\.1"):
        create_pool(db, project, {"name": "A"}, numbers=["044 123 45 61", "044 123 45 62"])
    assert db.scalar(select(func.count(Pool.id))) == 0
    assert db.scalar(select(func.count(TrackingNumber.id))) == 1


def test_hold_times_stay_within_a_day(db: Session, project: Project) -> None:
    pool = create_pool(db, project, {"name": "A"})
    with pytest.raises(InvalidInput) as caught:
        change_pool(db, pool, {"cooldown_minutes": 24 * 60 + 1})
    assert caught.value.field == "cooldown_minutes"
    assert change_pool(db, pool, {"cooldown_minutes": 24 * 60}).cooldown_minutes == 24 * 60
