"""The backend choice: Redis when redis_url is set, else SQL; forced choices are honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrail.leases.factory import LeaseBackendMisconfigured, make_lease_backend
from ringtrail.leases.redis import RedisLeaseBackend
from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.runtime import bootstrap
from ringtrail.settings import Settings


def _backend_name(tmp_path: Path, **values: str) -> str:
    runtime = bootstrap(
        Settings(data_dir=tmp_path, secret_key="test-secret-key-not-for-production", **values)
    )
    try:
        return make_lease_backend(runtime).name
    finally:
        runtime.close()


def test_auto_picks_redis_when_redis_url_is_set(tmp_path: Path, redis_url: str) -> None:
    assert _backend_name(tmp_path, redis_url=redis_url) == RedisLeaseBackend.name


def test_auto_picks_sql_without_redis(tmp_path: Path) -> None:
    assert _backend_name(tmp_path) == SqlLeaseBackend.name


def test_sql_can_be_forced_even_with_redis(tmp_path: Path, redis_url: str) -> None:
    assert _backend_name(tmp_path, redis_url=redis_url, lease_backend="sql") == "sql"


def test_redis_without_redis_url_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(LeaseBackendMisconfigured):
        _backend_name(tmp_path, lease_backend="redis")
