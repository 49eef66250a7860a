"""Shared fixtures: every storage-backed test runs on SQLite and on the real PostgreSQL.

Backends come from RINGTRAIL_TEST_BACKENDS (default "sqlite,postgresql"). Each run creates
its own PostgreSQL database and drops it at the end; a server that does not answer fails the
run rather than skipping it.

The suite runs on pytest-xdist workers (`-n auto` in pyproject.toml, capped below). Nothing a
test uses is shared between workers: each worker makes its own databases (named after it),
SQLite files under its own base temp dir, Redis key prefixes and RabbitMQ queues with random
names, and servers on ports the kernel hands out.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fastapi.dependencies.models as fastapi_dependency_models
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.accounts import (
    create_user,
    get_or_create_organization,
    issue_api_key,
)
from ringtrail.services.projects import create_project
from ringtrail.settings import Settings
from ringtrail.storage import migrate
from ringtrail.storage.models import Base, Project, User
from ringtrail.web.app import create_app

POSTGRES_URL = os.environ.get(
    "RINGTRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("RINGTRAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = [
    b.strip() for b in os.environ.get("RINGTRAIL_TEST_BACKENDS", "sqlite,postgresql").split(",")
]
PASSWORD = "correct horse battery"
# The fuzzing budget's counter and report, which must also run in xdist's controller.
pytest_plugins = ["tests.fuzz.budget"]
# The xdist worker this process is ("gw0", "gw1", ...), or "main" when not run by xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# `-n auto` starts one worker per CPU this process may run on, but no more than this: every
# worker runs its own Chromium, Kamailio and uvicorn servers next to the shared PostgreSQL.
MAX_AUTO_WORKERS = 4
# Tests that start several processes of their own (servers, workers, Kamailio, a PostgreSQL):
# `pytestmark = SPAWNS_PROCESSES` puts them on one xdist worker (`--dist loadgroup`), so they
# take turns instead of starving each other's start-up on a small machine.
SPAWNS_PROCESSES = pytest.mark.xdist_group("spawns-processes")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: PYTEST_XDIST_AUTO_NUM_WORKERS if set, else the usable CPUs, at most 4."""
    if configured := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(configured)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(usable or 1, MAX_AUTO_WORKERS))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI=true the suite may not be narrowed to leave PostgreSQL out."""
    if os.environ.get("CI", "").lower() == "true" and "postgresql" not in BACKENDS:
        raise pytest.UsageError("CI=true needs RINGTRAIL_TEST_BACKENDS to include postgresql")


def to_sqlalchemy_url(url: str) -> str:
    """A user-facing database URL in the form SQLAlchemy needs."""
    return Settings(database_url=url).sqlalchemy_url


def create_postgres_database(prefix: str = "ringtrail_test") -> str:
    """Create a fresh database on the test server and return its user-facing URL."""
    admin = create_engine(to_sqlalchemy_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{WORKER}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} does not answer: {exc}", pytrace=False)
    finally:
        admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database, even with sessions left open."""
    name = make_url(url).database
    admin = create_engine(to_sqlalchemy_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database for this test session, per backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "ringtrail.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(to_sqlalchemy_url(url))
        yield url
        return
    if request.param != "postgresql":
        raise pytest.UsageError(f"unknown backend {request.param!r} in RINGTRAIL_TEST_BACKENDS")
    url = create_postgres_database()
    try:
        migrate.upgrade(to_sqlalchemy_url(url))
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(autouse=True)
def forget_fastapi_call_caches() -> Iterator[None]:
    """Empty FastAPI's caches of dependency callables after each test.

    They hold up to 4,096 callables each, and a dependency closure made for one app keeps that
    app, its runtime and its route tables alive: in a worker that builds an app per test, a few
    gigabytes. One app per process, as in production, never fills them.
    """
    yield
    for value in vars(fastapi_dependency_models).values():
        cache_clear = getattr(value, "cache_clear", None)
        if callable(cache_clear):
            cache_clear()


def empty_all_tables(runtime: Runtime) -> None:
    """Delete every row, leaving the schema, so each test starts from nothing."""
    with runtime.engine.begin() as connection:
        if runtime.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its database, a private data dir, a fixed secret."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime on the test database, emptied after the test."""
    rt = bootstrap(settings)
    try:
        yield rt
    finally:
        empty_all_tables(rt)
        rt.close()


@pytest.fixture
def db(runtime: Runtime) -> Iterator[Session]:
    """A session for arranging data; commit explicitly to make it visible to the app."""
    session = runtime.sessions()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """An in-process HTTP client for the whole app."""
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@dataclass
class Tenant:
    """One organisation's side of the world: a project, its owner and keys."""

    organization_id: int
    project: Project
    owner: User
    org_key: str
    project_key: str

    @property
    def org_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.org_key}"}

    @property
    def project_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.project_key}"}


@dataclass
class World:
    """An owner's tenant and an outsider's tenant, for one-line isolation checks."""

    ours: Tenant
    outsider: Tenant


def make_tenant(db: Session, name: str) -> Tenant:
    """An organisation with one project, an owner and two admin keys (org-wide, project)."""
    organization = get_or_create_organization(db, name)
    owner = create_user(db, f"owner@{organization.slug}.example", PASSWORD, name=f"{name} owner")
    project = create_project(
        db,
        organization,
        f"{name} site",
        owner=owner,
        default_country="UA",
        timezone="Europe/Kyiv",
        currency="UAH",
        allowed_domains=[f"{organization.slug}.example"],
    )
    org_key = issue_api_key(db, organization, "org", Role.OWNER)
    project_key = issue_api_key(db, organization, "project", Role.ADMIN, project=project)
    return Tenant(organization.id, project, owner, org_key.secret, project_key.secret)


@pytest.fixture
def world(db: Session) -> World:
    """Two tenants that must never see each other's data."""
    ours = make_tenant(db, "Acme Realty")
    outsider = make_tenant(db, "Other Clinic")
    db.commit()
    return World(ours=ours, outsider=outsider)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis; fails the run when it does not answer. Keys are the test's to clean."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} does not answer: {exc}", pytrace=False)
    finally:
        client.close()
    yield REDIS_URL
