"""The composition root: builds the adapters a process needs from settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.settings import Settings
from ringtrail.storage.db import make_engine, make_session_factory, make_statement_engine


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


def bootstrap(settings: Settings) -> Runtime:
    """Build a Runtime for `settings`; connects lazily, so it never fails on a down service."""
    engine = make_engine(settings.sqlalchemy_url)
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
        statement_engine=make_statement_engine(settings.sqlalchemy_url),
    )
