"""PostgreSQL connections give up on a dead network and on runaway statements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from ringtrail.runtime import Runtime
from ringtrail.settings import Settings
from ringtrail.storage.db import make_engine, make_statement_engine

URL = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"


class Captured(Exception):
    """Raised instead of connecting, once the connection's parameters are known."""


def connection_parameters(engine: Engine) -> dict[str, Any]:
    """The parameters the engine hands the driver for a new connection."""
    seen: dict[str, Any] = {}

    def capture(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        seen.update(params)
        raise Captured()

    event.listen(engine, "do_connect", capture)
    with pytest.raises(Captured):
        engine.connect()
    engine.dispose()
    return seen


def test_pooled_connections_time_out_keep_alive_and_bound_statements() -> None:
    params = connection_parameters(make_engine(URL, statement_timeout_seconds=12))
    assert params["connect_timeout"] > 0
    assert params["keepalives"] == 1
    assert params["keepalives_idle"] > 0
    assert params["keepalives_interval"] > 0
    assert params["keepalives_count"] > 0
    assert params["tcp_user_timeout"] > 0
    assert "statement_timeout=12000" in params["options"]


def test_the_statement_engine_times_out_and_keeps_alive_too() -> None:
    engine = make_statement_engine(URL, statement_timeout_seconds=3)
    assert engine is not None
    params = connection_parameters(engine)
    assert params["keepalives"] == 1 and params["tcp_user_timeout"] > 0
    assert "statement_timeout=3000" in params["options"]
    assert "enable_seqscan=off" in params["options"]


def test_migrations_run_without_a_statement_timeout() -> None:
    params = connection_parameters(make_engine(URL))
    assert "statement_timeout" not in params.get("options", "")
    assert params["keepalives"] == 1


def test_pooled_connections_are_recycled_and_checked() -> None:
    engine = make_engine(URL)
    assert engine.pool._pre_ping is True  # type: ignore[attr-defined]
    assert 0 < engine.pool._recycle <= 3600  # type: ignore[attr-defined]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
        database_statement_timeout_seconds=7,
    )


def test_a_pooled_connection_has_the_configured_statement_timeout(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        return
    with runtime.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "7s"
    assert runtime.statement_engine is not None
    with runtime.statement_engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "7s"
