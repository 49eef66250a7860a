"""Database errors reach the logs without the values bound to statements (visitor, call data)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ringtrail.runtime import Runtime

CALLER = "+380501112233"


def failing_statement(engine: Engine) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, engine.connect() as connection:
        connection.execute(
            text("SELECT caller FROM no_such_table WHERE caller = :c"), {"c": CALLER}
        )
    return caught.value


def test_a_failed_statement_logs_no_parameter_values(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    engines = [runtime.engine]
    if runtime.statement_engine is not None:
        engines.append(runtime.statement_engine)
    for engine in engines:
        error = failing_statement(engine)
        logging.getLogger("ringtrail.test").error("request failed", exc_info=error)
        assert "no_such_table" in caplog.text  # the statement itself stays, for the operator
        assert CALLER not in caplog.text
        assert CALLER not in str(error)
