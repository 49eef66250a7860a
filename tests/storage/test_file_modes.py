"""The embedded database is private: its directory 0700, its files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ringtrail.runtime import bootstrap
from ringtrail.settings import Settings
from ringtrail.storage import migrate

SECRET = "test-secret-key-not-for-production"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def embedded(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url="", secret_key=SECRET)


@pytest.mark.usefixtures("lax_umask")
def test_the_data_dir_is_0700_and_the_database_files_0600_even_with_umask_022(
    tmp_path: Path,
) -> None:
    settings = embedded(tmp_path)
    runtime = bootstrap(settings)
    try:
        migrate.upgrade(settings.sqlalchemy_url)
        with runtime.engine.connect() as connection:  # open: the -wal and -shm files exist
            connection.execute(text("SELECT count(*) FROM projects"))
            database = settings.data_dir / "ringtrail.db"
            assert mode(settings.data_dir) == 0o700
            assert mode(database) == 0o600
            for suffix in ("-wal", "-shm"):
                assert mode(Path(f"{database}{suffix}")) == 0o600
    finally:
        runtime.close()


@pytest.mark.usefixtures("lax_umask")
def test_existing_world_readable_database_files_are_made_private_at_start_up(
    tmp_path: Path,
) -> None:
    settings = embedded(tmp_path)
    settings.data_dir.mkdir(mode=0o755)
    database = settings.data_dir / "ringtrail.db"
    files = [database, *(Path(f"{database}{s}") for s in ("-wal", "-shm", "-journal"))]
    for path in files:
        path.touch()
        path.chmod(0o644)
    runtime = bootstrap(settings)
    runtime.close()
    assert mode(settings.data_dir) == 0o700
    assert [mode(path) for path in files] == [0o600] * len(files)
