"""`ringtrail serve` before it serves: the schema check, the port claim, the workers' app."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrail.cli.context import prepare_schema
from ringtrail.cli.errors import CliError
from ringtrail.cli.serve import claim_port, display_url, worker_app
from ringtrail.runtime import bootstrap
from ringtrail.settings import Settings
from ringtrail.storage import migrate
from ringtrail.web.access_log import ACCESS_LOGGER, RedactRecordingTokens
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import create_postgres_database, drop_postgres_database


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A PostgreSQL database with no schema yet."""
    url = create_postgres_database("ringtrail_cli")
    try:
        yield url
    finally:
        drop_postgres_database(url)


def test_serve_refuses_a_postgres_schema_that_is_not_migrated(
    invoke: Invoke, empty_postgres: str
) -> None:
    result = invoke("serve", "--port", "1", RINGTRAIL_DATABASE_URL=empty_postgres)
    assert "run `ringtrail migrate`" in assert_one_error_line(result, 1)


def test_postgres_is_never_migrated_by_serve_even_with_auto_migrate(empty_postgres: str) -> None:
    runtime = bootstrap(
        Settings(
            database_url=empty_postgres,
            auto_migrate=True,
            secret_key="test-secret-key-not-for-production",
        )
    )
    try:
        with pytest.raises(CliError, match="ringtrail migrate"):
            prepare_schema(runtime)
        assert not migrate.is_up_to_date(runtime.engine)
    finally:
        runtime.close()


def test_embedded_default_is_migrated_on_first_use(tmp_path: Path) -> None:
    runtime = bootstrap(
        Settings(
            data_dir=tmp_path, database_url="", secret_key="test-secret-key-not-for-production"
        )
    )
    try:
        prepare_schema(runtime)
        assert migrate.is_up_to_date(runtime.engine)
    finally:
        runtime.close()


def test_embedded_default_without_auto_migrate_is_refused(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="",
        secret_key="test-secret-key-not-for-production",
        auto_migrate=False,
    )
    runtime = bootstrap(settings)
    try:
        with pytest.raises(CliError, match="ringtrail migrate"):
            prepare_schema(runtime)
    finally:
        runtime.close()


def test_first_command_on_the_embedded_default_needs_no_migrate(invoke: Invoke) -> None:
    result = invoke("user", "create", "--email", "first@example.com", "--password", "pa55word!")
    assert result.exit_code == 0, result.output


def test_claimed_port_is_refused_to_a_second_claim() -> None:
    first = claim_port("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        first.listen()
        with pytest.raises(CliError, match=f"port {port} on 127.0.0.1 is already in use"):
            claim_port("127.0.0.1", port)
    finally:
        first.close()


def test_unknown_host_is_one_clear_error() -> None:
    with pytest.raises(CliError, match="cannot resolve host"):
        claim_port("no-such-host.invalid", 8000)


def test_wildcard_hosts_are_shown_as_loopback() -> None:
    assert display_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"  # noqa: S104
    assert display_url("::", 9000) == "http://[::1]:9000"
    assert display_url("example.org", 80) == "http://example.org:80"


def test_free_port_can_be_claimed_and_released() -> None:
    sock = claim_port("127.0.0.1", 0)
    assert sock.family == socket.AF_INET
    sock.close()


def test_several_workers_on_the_embedded_sqlite_database_are_refused(invoke: Invoke) -> None:
    result = invoke("serve", "--workers", "2", "--port", "1")
    line = assert_one_error_line(result, 1)
    assert "--workers 2 needs PostgreSQL" in line
    assert "RINGTRAIL_DATABASE_URL" in line
    assert "RINGTRAIL_REDIS_URL" in line


def test_each_worker_builds_its_own_runtime_and_redacts_its_access_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    monkeypatch.setattr(access, "filters", [])
    monkeypatch.setenv("RINGTRAIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RINGTRAIL_DATABASE_URL", "")
    monkeypatch.setenv("RINGTRAIL_SECRET_KEY", "test-secret-key-not-for-production")
    app = worker_app()
    try:
        assert any(isinstance(f, RedactRecordingTokens) for f in access.filters)
        assert app.state.runtime.settings.data_dir == tmp_path
    finally:
        app.state.runtime.close()
