"""Database engine and sessions: one engine per process, a session per unit of work."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database; they hold its data too."""

CONNECT_TIMEOUT_SECONDS = 5
TCP_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
"""An idle pooled connection to a vanished server is found dead within about a minute."""
TCP_USER_TIMEOUT_MS = 30_000
"""A connection whose sent data goes unacknowledged this long is dropped (a partition)."""
POOL_RECYCLE_SECONDS = 1800


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or the URL is unusable; the message says which."""


def make_private_dir(path: Path) -> None:
    """Create `path` (and its parents) readable by this user only, umask notwithstanding.

    An existing directory owned by this user loses its group and other permissions, unless
    it is a shared sticky directory such as /tmp.
    """
    if not path.exists():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        path.chmod(PRIVATE_DIR)
        return
    info = path.stat()
    if info.st_uid == os.geteuid() and not info.st_mode & stat.S_ISVTX:
        path.chmod(stat.S_IMODE(info.st_mode) & PRIVATE_DIR)


def make_private_sqlite_files(database: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would follow the umask) and make an
    existing one and its companions (-wal, -shm, -journal) 0600; SQLite gives companions it
    creates later the database file's mode. A new directory for it is 0700."""
    if not database.parent.exists():
        make_private_dir(database.parent)
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS)):
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != PRIVATE_FILE:
            path.chmod(PRIVATE_FILE)


def postgres_connect_args(
    statement_timeout_seconds: float | None = None, *options: str
) -> dict[str, Any]:
    """libpq parameters: connect timeout, TCP keepalives and user timeout, so a pooled
    connection fails over a network partition instead of hanging; with a timeout, a statement
    running longer is cancelled by the server. `options` are more `-c name=value` settings."""
    settings = list(options)
    if statement_timeout_seconds:
        settings.append(f"-c statement_timeout={round(statement_timeout_seconds * 1000)}")
    args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        **TCP_KEEPALIVES,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    }
    if settings:
        args["options"] = " ".join(settings)
    return args


def make_engine(
    url: str, *, echo: bool = False, statement_timeout_seconds: float | None = None
) -> Engine:
    """An engine for `url` (an SQLAlchemy URL), tuned for SQLite or PostgreSQL.

    `statement_timeout_seconds` bounds each PostgreSQL statement (None or 0: unbounded, as
    migrations run).
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise DatabaseUnavailable(f"bad database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            make_private_sqlite_files(Path(parsed.database))
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,  # errors and logs carry visitor and call data otherwise
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=10,
        max_overflow=20,
        connect_args=postgres_connect_args(statement_timeout_seconds),
    )


STATEMENT_POOL_SIZE = 8
"""Connections kept by `make_statement_engine` (one per visit-start thread, see web.tracking)."""


def make_statement_engine(
    url: str, *, statement_timeout_seconds: float | None = None
) -> Engine | None:
    """PostgreSQL: an engine for hot paths made of single statements, each its own transaction
    (autocommit). Its connections are not pinged before use nor reset after: a caller must
    treat any error as "nothing happened" and fall back to `make_engine`'s engine, which checks
    its connections (a dead one found here is dropped with the whole pool). Its sessions plan
    without sequential scans and share `make_engine`'s timeouts. None for SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return create_engine(
        parsed,
        isolation_level="AUTOCOMMIT",
        hide_parameters=True,
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_reset_on_return=None,
        pool_size=STATEMENT_POOL_SIZE,
        max_overflow=STATEMENT_POOL_SIZE,
        # Every statement run here reaches its rows by key. Prepared after a few runs, a
        # statement keeps the plan made then: one made while a table was small scans it
        # whole, and keeps doing so as it grows (seen: 2.9 ms of server CPU per visit
        # start instead of 1.3). Without sequential scans the plans stay on the indexes.
        connect_args=postgres_connect_args(statement_timeout_seconds, "-c enable_seqscan=off"),
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
