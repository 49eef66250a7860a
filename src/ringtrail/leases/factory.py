"""Picks the lease backend from settings: Redis when `redis_url` is set, else SQL.

`lease_backend = "auto"` (the default) uses Redis whenever `redis_url` is configured, and
the database otherwise (the embedded default needs no Redis). `"sql"` or `"redis"` forces
one; `"redis"` without `redis_url` is a configuration error. Keys live under
`redis_key_prefix` (so several instances can share one Redis).
"""

from __future__ import annotations

from ringtrail.leases.base import LeaseBackend
from ringtrail.leases.redis import RedisLeaseBackend
from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.runtime import Runtime


class LeaseBackendMisconfigured(ValueError):
    """The settings ask for a backend they give no means to reach."""


def make_lease_backend(runtime: Runtime) -> LeaseBackend:
    """The backend the runtime's settings choose."""
    choice = runtime.settings.lease_backend
    if choice == "auto":
        choice = "redis" if runtime.redis is not None else "sql"
    if choice == "redis":
        if runtime.redis is None:
            raise LeaseBackendMisconfigured("lease_backend is 'redis' but redis_url is not set")
        prefix = f"{runtime.settings.redis_key_prefix}:leases"
        return RedisLeaseBackend(
            runtime.redis, runtime.engine, prefix=prefix, statement_engine=runtime.statement_engine
        )
    return SqlLeaseBackend(runtime.engine, statement_engine=runtime.statement_engine)
