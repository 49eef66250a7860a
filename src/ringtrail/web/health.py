"""GET /healthz: 200 when the database (and Redis, if configured) answer, 503 naming what failed.

The answer is public, so it names the failing service only; why it failed (addresses, driver
errors) goes to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ringtrail import __version__
from ringtrail.storage.db import DatabaseUnavailable, ping
from ringtrail.web.deps import get_runtime

router = APIRouter()
log = logging.getLogger(__name__)


def _check(request: Request) -> dict[str, Any]:
    runtime = get_runtime(request)
    checks: dict[str, str] = {}
    try:
        ping(runtime.engine)
        checks["database"] = "ok"
    except DatabaseUnavailable as exc:
        log.warning("health check: database unavailable: %s", exc)
        checks["database"] = "unavailable"
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # any redis failure means "not healthy"
            log.warning("health check: redis unavailable: %s: %s", type(exc).__name__, exc)
            checks["redis"] = "unavailable"
    return checks


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    """Liveness and readiness in one: every configured backing service must answer."""
    checks = await run_in_threadpool(_check, request)
    failing = sorted(name for name, state in checks.items() if state != "ok")
    body = {
        "status": "ok" if not failing else "unavailable",
        "version": __version__,
        "checks": checks,
        "failing": failing,
    }
    return JSONResponse(body, status_code=200 if not failing else 503)
