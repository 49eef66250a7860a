"""`ringtrail migrate`: up to head, down to a revision, and clear errors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from ringtrail.storage import migrate
from ringtrail.storage.db import make_engine
from tests.cli.conftest import Invoke, assert_one_error_line


def test_migrate_builds_the_schema_and_downgrade_removes_it(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'ringtrail.db'}")
    try:
        assert migrate.is_up_to_date(engine)
        assert "calls" in inspect(engine).get_table_names()
        down = invoke("migrate", "--downgrade", "base")
        assert down.exit_code == 0, down.output
        assert "calls" not in inspect(engine).get_table_names()
        assert invoke("migrate", "--revision", "head").exit_code == 0
        assert migrate.is_up_to_date(engine)
    finally:
        engine.dispose()


def test_migrating_twice_changes_nothing(invoke: Invoke) -> None:
    assert invoke("migrate").exit_code == 0
    assert invoke("migrate").exit_code == 0


def test_unknown_revision_is_one_line(invoke: Invoke) -> None:
    line = assert_one_error_line(invoke("migrate", "--revision", "no-such-revision"), 1)
    assert "no-such-revision" in line
