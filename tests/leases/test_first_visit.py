"""A new visitor's start as one statement (PostgreSQL, SQL backend) and its fallbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from ringtrail.domain.pools import PoolTimings
from ringtrail.leases import first_visit
from ringtrail.leases.base import LeaseBackend, PoolRef
from ringtrail.leases.redis import RedisLeaseBackend, member
from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.leases.sync import SyncSchedule
from ringtrail.runtime import Runtime
from ringtrail.services.rate_limits import MemoryRateLimiter
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.services.visits import TrackingService, VisitStart, VisitStarted
from ringtrail.storage.models import (
    NumberLease,
    PoolOverflow,
    PoolSlot,
    TrackingNumber,
    Visit,
    Visitor,
)
from tests.conftest import World
from tests.web.tracking.test_api import BROWSER, GOOGLE_ADS_URL, SITE, Site, set_up_site

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def pool_ref(world: World, site: Site) -> PoolRef:
    timings = PoolTimings(timedelta(minutes=15), timedelta(minutes=30))
    return PoolRef(world.ours.project.id, site.pool_id, timings)


def loaded_backend(runtime: Runtime, world: World, site: Site) -> SqlLeaseBackend:
    """A SQL backend whose pool is synced (so visit starts take the one-statement path)."""
    backend = SqlLeaseBackend(runtime.engine, SyncSchedule(interval=3600))
    backend.schedule.run(site.pool_id, lambda: backend.reload_pool(pool_ref(world, site), T0))
    return backend


@pytest.fixture(params=["sql", "redis"])
def loaded(
    request: pytest.FixtureRequest, runtime: Runtime, redis_url: str, redis_prefix: str
) -> Iterator[Callable[[World, Site], LeaseBackend]]:
    """Builds each backend with the site's pool loaded (a sync due only after an hour)."""
    client = redis.Redis.from_url(redis_url)

    def build(world: World, site: Site) -> LeaseBackend:
        if request.param == "sql":
            return loaded_backend(runtime, world, site)
        backend = RedisLeaseBackend(
            client, runtime.engine, prefix=redis_prefix, schedule=SyncSchedule(interval=3600)
        )
        backend.schedule.run(site.pool_id, lambda: backend.reload_pool(pool_ref(world, site), T0))
        return backend

    yield build
    client.close()


def tracking(runtime: Runtime, backend: LeaseBackend) -> TrackingService:
    return TrackingService(
        runtime.sessions, backend, TokenSigner("secret"), MemoryRateLimiter(), address_salt="s"
    )


def start(
    service: TrackingService, site: Site, now: datetime, address: str = "203.0.113.9"
) -> VisitStarted:
    request = VisitStart(
        key=site.key, visitor_token=None, url=GOOGLE_ADS_URL, referrer="https://www.google.com/",
        cookies={}, visible=True, user_agent=BROWSER, client_address=address, origin=SITE,
    )  # fmt: skip
    return service.start_visit(request, now)


def shown(started: VisitStarted) -> tuple[str, str]:
    return started.numbers[0].number, started.numbers[0].kind


@pytest.fixture
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements the engine runs from here on."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(runtime.engine, "before_cursor_execute", record)
    yield seen
    event.remove(runtime.engine, "before_cursor_execute", record)


def postgres(runtime: Runtime) -> bool:
    return runtime.engine.dialect.name == "postgresql"


def test_a_new_visitor_with_a_pool_number_is_one_or_two_statements_on_postgresql(
    runtime: Runtime,
    db: Session,
    world: World,
    statements: list[str],
    loaded: Callable[[World, Site], LeaseBackend],
) -> None:
    site = set_up_site(db, world)
    backend = loaded(world, site)
    service = tracking(runtime, backend)
    start(service, site, T0)  # the process's first: loads the project, sweeps ended holds
    statements.clear()
    started = start(service, site, T0, address="203.0.113.10")
    assert shown(started) == (site.pool_numbers[1], "pool")
    if postgres(runtime):  # SQL backend: one; Redis: the visit, then the lease row
        assert len(statements) == (1 if isinstance(backend, SqlLeaseBackend) else 2)
    else:  # SQLite starts step by step, in one transaction
        assert len(statements) > 2
    visitor = db.scalars(select(Visitor).order_by(Visitor.id.desc())).first()
    visit = db.scalars(select(Visit).order_by(Visit.id.desc())).first()
    lease = db.scalars(select(NumberLease).order_by(NumberLease.id.desc())).first()
    assert visitor is not None and visit is not None and lease is not None
    assert visitor.first_visit_id == visit.id and visit.visitor_id == visitor.id
    assert (lease.visit_id, lease.visitor_id) == (visit.id, visitor.id)
    assert lease.snapshot["visit_id"] == visit.id
    assert lease.snapshot["source"] == visit.source == "google"
    assert visit.source_trace.count("first visit of this visitor") == 1
    assert lease.hold_until == T0 + timedelta(minutes=15) and lease.released_at is None
    if isinstance(backend, RedisLeaseBackend):  # the hold knows its lease row at once
        held = backend.client.hget(
            backend.keys_for(lease.project_id, site.pool_id)[4], member(lease.number_id)
        )
        assert held is not None and int(held) == lease.id
        return
    slot = db.get(PoolSlot, lease.number_id)
    assert slot is not None and (slot.lease_id, slot.held_until) == (lease.id, lease.hold_until)


def test_a_pool_due_for_a_sync_is_synced_first_and_sqlite_has_no_one_statement_start(
    runtime: Runtime, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = set_up_site(db, world)
    one_statement: list[str] = []
    original = first_visit.start_new_visitor

    def spy(*args: Any, **kwargs: Any) -> Any:
        one_statement.append(kwargs["public_id"])
        return original(*args, **kwargs)

    monkeypatch.setattr(first_visit, "start_new_visitor", spy)
    never_synced = SqlLeaseBackend(runtime.engine)
    started = start(tracking(runtime, never_synced), site, T0)
    assert shown(started) == (site.pool_numbers[0], "pool")
    assert not never_synced.schedule.due(site.pool_id)
    assert len(one_statement) == (1 if postgres(runtime) else 0)


def test_a_reused_number_closes_the_lease_row_of_its_last_hold(
    runtime: Runtime, db: Session, world: World, loaded: Callable[[World, Site], LeaseBackend]
) -> None:
    site = set_up_site(db, world, pool_size=1)
    service = tracking(runtime, loaded(world, site))
    first = start(service, site, T0)
    later = T0 + timedelta(hours=2)  # past the grace and the cool-down; nobody swept
    second = start(service, site, later, address="203.0.113.10")
    assert shown(first) == shown(second) == (site.pool_numbers[0], "pool")
    old, new = db.scalars(select(NumberLease).order_by(NumberLease.id)).all()
    assert old.released_at == T0 + timedelta(minutes=15)
    assert old.cooldown_until == T0 + timedelta(minutes=45)
    assert new.released_at is None and new.leased_at == later


def test_an_exhausted_pool_shows_the_default_and_counts_the_overflow(
    runtime: Runtime, db: Session, world: World, loaded: Callable[[World, Site], LeaseBackend]
) -> None:
    site = set_up_site(db, world, pool_size=1)
    service = tracking(runtime, loaded(world, site))
    assert shown(start(service, site, T0)) == (site.pool_numbers[0], "pool")
    for address in ("203.0.113.20", "203.0.113.21"):
        assert shown(start(service, site, T0, address=address)) == (site.default, "default")
    assert db.scalar(select(func.sum(PoolOverflow.count))) == 2
    assert db.scalar(select(func.count()).select_from(Visit)) == 3
    assert db.scalar(select(func.count()).select_from(NumberLease)) == 1


def test_a_number_that_left_the_pool_since_the_sync_is_skipped(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=2)
    service = tracking(runtime, loaded_backend(runtime, world, site))
    gone, kept = site.pool_numbers
    db.execute(update(TrackingNumber).where(TrackingNumber.e164 == gone).values(is_active=False))
    db.commit()
    assert shown(start(service, site, T0)) == (kept, "pool")
    db.expire_all()
    numbers = {n.id: n.e164 for n in db.scalars(select(TrackingNumber))}
    assert {numbers[s.number_id] for s in db.scalars(select(PoolSlot))} == {kept}
    assert db.scalar(select(func.count()).select_from(Visit)) == 1
    assert db.scalar(select(func.count()).select_from(NumberLease)) == 1


@pytest.mark.parametrize("statement", ["_NEW_VISITOR_VISIT_AND_LEASE", "_NEW_VISITOR_AND_VISIT"])
def test_a_failed_first_statement_writes_nothing_and_the_visit_starts_step_by_step(
    runtime: Runtime,
    db: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    loaded: Callable[[World, Site], LeaseBackend],
    statement: str,
) -> None:
    site = set_up_site(db, world)
    monkeypatch.setattr(first_visit, statement, text("SELECT no_such_column FROM visits"))
    service = tracking(runtime, loaded(world, site))
    assert shown(start(service, site, T0)) == (site.pool_numbers[0], "pool")
    assert db.scalar(select(func.count()).select_from(Visitor)) == 1
    visit = db.scalars(select(Visit)).one()
    assert visit.source_trace.count("first visit of this visitor") == 1
    assert db.scalar(select(func.count()).select_from(NumberLease)) == 1


def test_redis_gives_the_number_back_when_the_lease_row_fails_and_leases_again(
    runtime: Runtime,
    db: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,
) -> None:
    site = set_up_site(db, world, pool_size=1)
    monkeypatch.setattr(first_visit, "_LEASE_WITH_ID", text("SELECT no_such_column FROM visits"))
    client = redis.Redis.from_url(redis_url)
    try:
        backend = RedisLeaseBackend(
            client, runtime.engine, prefix=redis_prefix, schedule=SyncSchedule(interval=3600)
        )
        backend.schedule.run(site.pool_id, lambda: backend.reload_pool(pool_ref(world, site), T0))
        started = start(tracking(runtime, backend), site, T0)
    finally:
        client.close()
    assert shown(started) == (site.pool_numbers[0], "pool")  # the only number: it came back
    assert db.scalar(select(func.count()).select_from(Visit)) == 1
    lease = db.scalars(select(NumberLease)).one()
    assert lease.visit_id == db.scalars(select(Visit.id)).one()


@pytest.mark.parametrize("round_", range(2))
def test_200_parallel_new_visitors_on_a_pool_of_50_get_50_numbers_and_150_defaults(
    runtime: Runtime,
    db: Session,
    world: World,
    round_: int,
    loaded: Callable[[World, Site], LeaseBackend],
) -> None:
    site = set_up_site(db, world, pool_size=50)
    service = tracking(runtime, loaded(world, site))
    addresses = [f"198.51.{round_}.{i}" for i in range(200)]
    with ThreadPoolExecutor(16) as threads:
        answers = list(threads.map(lambda a: shown(start(service, site, T0, a)), addresses))
    pool = [number for number, kind in answers if kind == "pool"]
    assert len(pool) == len(set(pool)) == 50
    assert [kind for _, kind in answers].count("default") == 150
    assert {number for number, kind in answers if kind == "default"} == {site.default}
    live = select(func.count()).select_from(NumberLease).where(NumberLease.released_at.is_(None))
    assert db.scalar(live) == 50
    assert db.scalar(select(func.count()).select_from(Visit)) == 200
    assert db.scalar(select(func.sum(PoolOverflow.count))) == 150
