"""Helpers for CLI tests: run `ringtrail` in-process against a chosen database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ringtrail.cli.main import app

Invoke = Callable[..., Result]


def run_cli(args: list[str], env: dict[str, str], input: str | None = None) -> Result:
    """Run the CLI once with `env` on top of the process environment."""
    return CliRunner().invoke(app, args, env=env, input=input)


def assert_one_error_line(result: Result, code: int) -> str:
    """The command failed with `code`, saying why in exactly one `error:` line, no traceback."""
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the embedded default: a SQLite file in a private data dir."""
    return {
        "RINGTRAIL_DATA_DIR": str(tmp_path / "data"),
        "RINGTRAIL_DATABASE_URL": "",
        "RINGTRAIL_REDIS_URL": "",
        "RINGTRAIL_SECRET_KEY": "test-secret-key-not-for-production",
    }


@pytest.fixture
def invoke(embedded_env: dict[str, str]) -> Invoke:
    """Run the CLI on the embedded default of this test."""

    def _invoke(*args: str, input: str | None = None, **env: str) -> Result:
        return run_cli(list(args), {**embedded_env, **env}, input=input)

    return _invoke


@pytest.fixture
def backend_invoke(database_url: str, runtime: object, tmp_path: Path) -> Invoke:
    """Run the CLI on the shared test database (SQLite and PostgreSQL), emptied afterwards."""
    env = {
        "RINGTRAIL_DATABASE_URL": database_url,
        "RINGTRAIL_DATA_DIR": str(tmp_path / "data"),
        "RINGTRAIL_REDIS_URL": "",
        "RINGTRAIL_SECRET_KEY": "test-secret-key-not-for-production",
    }

    def _invoke(*args: str, input: str | None = None, **extra: str) -> Result:
        return run_cli(list(args), {**env, **extra}, input=input)

    return _invoke
