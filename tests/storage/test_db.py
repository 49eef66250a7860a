"""Engines: the statement engine for one-statement hot paths (PostgreSQL only)."""

from __future__ import annotations

from sqlalchemy import text

from ringtrail.runtime import Runtime
from ringtrail.storage.db import STATEMENT_POOL_SIZE, make_statement_engine


def test_sqlite_has_no_statement_engine(tmp_path: object) -> None:
    assert make_statement_engine(f"sqlite:///{tmp_path}/ringtrail.db") is None


def test_the_statement_engine_commits_each_statement_does_not_ping_nor_scan_whole_tables(
    runtime: Runtime,
) -> None:
    engine = runtime.statement_engine
    if runtime.engine.dialect.name != "postgresql":
        assert engine is None
        return
    assert engine is not None
    assert engine.pool.size() == STATEMENT_POOL_SIZE  # type: ignore[attr-defined]
    assert engine.pool._pre_ping is False
    with engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is True
        assert connection.execute(text("SHOW enable_seqscan")).scalar_one() == "off"
        connection.execute(text("CREATE TABLE statement_engine_probe (x int)"))
        connection.execute(text("INSERT INTO statement_engine_probe VALUES (1)"))
    with runtime.engine.connect() as other:  # written without a commit: autocommit
        assert other.execute(text("SELECT x FROM statement_engine_probe")).scalar_one() == 1
        other.execute(text("DROP TABLE statement_engine_probe"))
        other.commit()
