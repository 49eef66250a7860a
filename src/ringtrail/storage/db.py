"""Database engine and sessions: one engine per process, a session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or the URL is unusable; the message says which."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url` (an SQLAlchemy URL), tuned for SQLite or PostgreSQL."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise DatabaseUnavailable(f"bad database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5},
    )


STATEMENT_POOL_SIZE = 8
"""Connections kept by `make_statement_engine` (one per visit-start thread, see web.tracking)."""


def make_statement_engine(url: str) -> Engine | None:
    """PostgreSQL: an engine for hot paths made of single statements, each its own transaction
    (autocommit). Its connections are not pinged before use nor reset after: a caller must
    treat any error as "nothing happened" and fall back to `make_engine`'s engine, which checks
    its connections (a dead one found here is dropped with the whole pool). Its sessions plan
    without sequential scans. None for SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return create_engine(
        parsed,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_reset_on_return=None,
        pool_size=STATEMENT_POOL_SIZE,
        max_overflow=STATEMENT_POOL_SIZE,
        # Every statement run here reaches its rows by key. Prepared after a few runs, a
        # statement keeps the plan made then: one made while a table was small scans it
        # whole, and keeps doing so as it grows (seen: 2.9 ms of server CPU per visit
        # start instead of 1.3). Without sequential scans the plans stay on the indexes.
        connect_args={"connect_timeout": 5, "options": "-c enable_seqscan=off"},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends cleanly and rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dialect_of(db: Session | Connection) -> str:
    """The database a session or connection talks to: "postgresql" or "sqlite"."""
    if isinstance(db, Connection):
        return db.dialect.name
    return db.get_bind().dialect.name


def ping(engine: Engine) -> None:
    """Raise DatabaseUnavailable unless the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise DatabaseUnavailable(_first_line(exc)) from exc


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return message[0] if message else type(exc).__name__
