"""The composition root: builds the adapters a process needs from settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, partial

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.settings import Settings
from ringtrail.storage.db import (
    make_engine,
    make_private_dir,
    make_session_factory,
    make_statement_engine,
)
from ringtrail.storage.encryption import Keyring, bind_keyring


@dataclass
class Runtime:
    """Everything long-lived a process shares: settings, database engine, optional Redis."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis | None = field(default=None)
    statement_engine: Engine | None = field(default=None)
    """PostgreSQL: autocommit connections for one-statement hot paths (storage.db)."""

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()
        if self.statement_engine is not None:
            self.statement_engine.dispose()
        if self.redis is not None:
            self.redis.close()


def keyring_for(settings: Settings) -> Keyring:
    """RINGTRAIL_ENCRYPTION_KEY, else the secret key, encrypts; the old keys still decrypt."""
    current = settings.encryption_key or settings.resolved_secret_key()
    return Keyring.from_materials(current, settings.encryption_old_keys)


def bootstrap(settings: Settings) -> Runtime:
    """Build a Runtime for `settings`; connects lazily, so it never fails on a down service.

    The data directory is made private (0700) first: it holds the SQLite database, the
    generated secret key and local recordings. Outside the embedded default it may be unused
    and unwritable, so there a failure to make it is left to whatever needs it.
    """
    try:
        make_private_dir(settings.data_dir)
    except OSError:
        if settings.is_embedded:
            raise
    timeout = settings.database_statement_timeout_seconds
    engine = make_engine(settings.sqlalchemy_url, statement_timeout_seconds=timeout)
    statement_engine = make_statement_engine(
        settings.sqlalchemy_url, statement_timeout_seconds=timeout
    )
    keyring = cache(partial(keyring_for, settings))  # built on first use of a secret
    for bound in (engine, statement_engine):
        if bound is not None:
            bind_keyring(bound, keyring)
    client = (
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        if settings.redis_url
        else None
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        redis=client,
        statement_engine=statement_engine,
    )
