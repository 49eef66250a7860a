"""Settings: RINGTRAIL_* variables, *_FILE secrets, the TOML config file and their precedence."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydantic
import pytest

from ringtrail.settings import (
    MIN_SECRET_KEY_LENGTH,
    ConfigFileError,
    SecretKeyError,
    Settings,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "CONFIG_FILE",
        "PORT",
        "SECRET_KEY_FILE",
    ):
        monkeypatch.delenv(f"RINGTRAIL_{name}", raising=False)
    monkeypatch.setenv("RINGTRAIL_DATA_DIR", str(tmp_path / "data"))


def test_the_embedded_default_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings()

    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'ringtrail.db'}"
    assert settings.is_embedded
    assert settings.redis_url == ""


def test_postgresql_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGTRAIL_DATABASE_URL", "postgres://u@db:5432/rt")

    settings = Settings()

    assert settings.sqlalchemy_url == "postgresql+psycopg://u@db:5432/rt"
    assert not settings.is_embedded


def test_an_unknown_database_or_redis_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGTRAIL_DATABASE_URL", "mysql://x")
    with pytest.raises(pydantic.ValidationError, match="database_url"):
        Settings()
    monkeypatch.delenv("RINGTRAIL_DATABASE_URL")
    monkeypatch.setenv("RINGTRAIL_REDIS_URL", "http://x")
    with pytest.raises(pydantic.ValidationError, match="redis_url"):
        Settings()


def test_secrets_come_from_files_and_variables_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file-long-enough-for-a-key\n")
    monkeypatch.setenv("RINGTRAIL_SECRET_KEY_FILE", str(secret))
    assert Settings().resolved_secret_key() == "from-a-file-long-enough-for-a-key"

    monkeypatch.setenv("RINGTRAIL_SECRET_KEY", "from-the-environment-long-enough-for-a-key")
    assert Settings().resolved_secret_key() == "from-the-environment-long-enough-for-a-key"


def test_without_a_key_one_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Settings().resolved_secret_key()

    assert len(first) >= 40
    assert Settings().resolved_secret_key() == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_config_file_is_read_and_the_environment_overrides_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "ringtrail.toml"
    config.write_text('port = 9001\nredis_url = "redis://cache:6379/0"\n')
    monkeypatch.setenv("RINGTRAIL_CONFIG_FILE", str(config))
    assert (Settings().port, Settings().redis_url) == (9001, "redis://cache:6379/0")

    monkeypatch.setenv("RINGTRAIL_PORT", "9002")
    assert Settings().port == 9002


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("port = ", "not valid TOML"),
        ('prot = 9001\ndatabase_url = "sqlite://"\n', "unknown settings: prot"),
    ],
)
def test_a_missing_broken_or_misspelt_config_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, message: str
) -> None:
    config = tmp_path / "ringtrail.toml"
    if content is not None:
        config.write_text(content)
    monkeypatch.setenv("RINGTRAIL_CONFIG_FILE", str(config))

    with pytest.raises(ConfigFileError, match=message):
        Settings()


def test_processes_starting_together_on_a_fresh_data_dir_share_one_whole_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for attempt in range(5):
        monkeypatch.setenv("RINGTRAIL_DATA_DIR", str(tmp_path / f"data{attempt}"))
        starting = [Settings() for _ in range(12)]
        barrier = threading.Barrier(len(starting))

        def start(settings: Settings, barrier: threading.Barrier = barrier) -> str:
            barrier.wait()
            return settings.resolved_secret_key()

        with ThreadPoolExecutor(max_workers=len(starting)) as pool:
            keys = set(pool.map(start, starting))

        assert len(keys) == 1
        (key,) = keys
        assert len(key) >= MIN_SECRET_KEY_LENGTH
        key_file = tmp_path / f"data{attempt}" / "secret_key"
        assert key_file.read_text() == key
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


@pytest.mark.parametrize("content", ["", "\n", "short-key"])
def test_an_empty_or_short_key_file_is_refused_loudly(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "data" / "secret_key"
    key_file.parent.mkdir()
    key_file.write_text(content)

    with pytest.raises(SecretKeyError, match="delete it"):
        Settings().resolved_secret_key()
    assert "refusing to use it" in caplog.text


def test_a_short_secret_key_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGTRAIL_SECRET_KEY", "tiny")

    with pytest.raises(pydantic.ValidationError, match="at least 32"):
        Settings()
