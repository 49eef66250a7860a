"""Every failure is one `error:` line on stderr and a non-zero code, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrail.cli import users
from tests.cli.conftest import Invoke, assert_one_error_line

PASSWORD = "secret-password"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program is listening on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_invalid_setting_is_named_in_one_line(invoke: Invoke) -> None:
    result = invoke("user", "create", "--email", "a@b.example", RINGTRAIL_DATABASE_URL="mysql://x")
    line = assert_one_error_line(result, 2)
    assert "RINGTRAIL_DATABASE_URL" in line


def test_a_misspelt_config_file_is_named_in_one_line(invoke: Invoke, tmp_path: Path) -> None:
    config = tmp_path / "ringtrail.toml"
    config.write_text("databse_url = 'sqlite://'\n")
    result = invoke("migrate", RINGTRAIL_CONFIG_FILE=str(config))
    line = assert_one_error_line(result, 2)
    assert "unknown settings: databse_url" in line


def test_unreachable_database_is_one_line(invoke: Invoke) -> None:
    result = invoke("migrate", RINGTRAIL_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    line = assert_one_error_line(result, 1)
    assert "database unavailable" in line


@pytest.mark.parametrize(
    "url", ["postgresql://u@h:notaport/db", "postgresql+nodriver://u@h/db"], ids=["port", "driver"]
)
def test_bad_database_url_is_a_usage_error(invoke: Invoke, url: str) -> None:
    line = assert_one_error_line(invoke("migrate", RINGTRAIL_DATABASE_URL=url), 2)
    assert "database URL" in line


def test_duplicate_email_is_one_line(invoke: Invoke) -> None:
    assert invoke("user", "create", "--email", "a@b.example", "--password", PASSWORD).exit_code == 0
    result = invoke("user", "create", "--email", "A@b.example", "--password", PASSWORD)
    assert "a@b.example exists" in assert_one_error_line(result, 1)


def test_invalid_phone_number_is_a_usage_error(invoke: Invoke) -> None:
    assert invoke("user", "create", "--email", "o@b.example", "--password", PASSWORD).exit_code == 0
    result = invoke(
        "project",
        "create",
        "--name",
        "Site",
        "--organization",
        "Org",
        "--owner-email",
        "o@b.example",
        "--country",
        "UA",
        "--main-number",
        "12345",
    )
    assert "main number" in assert_one_error_line(result, 2)


def test_missing_option_is_a_usage_error_pointing_at_help(invoke: Invoke) -> None:
    line = assert_one_error_line(invoke("user", "create"), 2)
    assert "--email" in line and "ringtrail user create --help" in line


def test_port_in_use_is_one_line_before_serving(invoke: Invoke, busy_port: int) -> None:
    line = assert_one_error_line(invoke("serve", "--port", str(busy_port)), 1)
    assert f"port {busy_port}" in line and "in use" in line


def test_an_empty_secret_key_file_stops_serve_before_it_serves(
    invoke: Invoke, busy_port: int, tmp_path: Path
) -> None:
    key_file = tmp_path / "data" / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("")

    result = invoke("serve", "--port", str(busy_port), RINGTRAIL_SECRET_KEY="")

    line = assert_one_error_line(result, 2)
    assert str(key_file) in line and "delete it" in line


def test_demo_on_a_port_in_use_is_one_line(
    invoke: Invoke, busy_port: int, tmp_path: object
) -> None:
    result = invoke("demo", "--port", str(busy_port), "--data-dir", f"{tmp_path}/demo")
    assert "in use" in assert_one_error_line(result, 1)


def test_unexpected_failure_is_still_one_line(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(users, "create_user", explode)
    result = invoke("user", "create", "--email", "a@b.example", "--password", PASSWORD)
    assert "unexpected RuntimeError: boom" in assert_one_error_line(result, 1)
