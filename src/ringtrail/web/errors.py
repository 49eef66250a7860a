"""Maps service-layer errors to HTTP answers with a reason (never a bare 500)."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, OperationalError

from ringtrail.services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from ringtrail.storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = "database unavailable; retry later"
"""The whole 503 answer: the database's address and its error go to the log only."""
SERVICE_UNAVAILABLE = "service unavailable; retry later"
"""The 503 answer while Redis (live holds, rate limits, lock-outs) cannot be reached."""
RETRY_AFTER_SECONDS = "5"


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, InvalidInput):
        return JSONResponse(
            {"detail": [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]},
            status_code=422,
        )
    if isinstance(exc, NotFound):
        return _detail(404, str(exc) or "not found")
    if isinstance(exc, PermissionDenied):
        return _detail(403, str(exc) or "forbidden")
    if isinstance(exc, Conflict):
        return _detail(409, str(exc))
    return _detail(400, str(exc))


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    reason = getattr(exc, "orig", None) or exc
    first_line = (str(reason).strip().splitlines() or [type(exc).__name__])[0]
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, first_line)
    return JSONResponse(
        {"detail": DATABASE_UNAVAILABLE},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _redis_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Redis restarting or gone: a 503 the caller retries, like a database outage, and one
    log line (its address stays in the log)."""
    log.warning("%s %s: redis unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": SERVICE_UNAVAILABLE},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


UNSTORABLE_TEXT = "text may not contain NUL characters"
OUT_OF_RANGE = "a number is out of the range the database can store"


async def _unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refused to take (NUL in text, a number past 64 bits): a 422.

    Input checks refuse these where a route knows its fields; this is the net under every
    other route, so hostile input never becomes a 500. Nothing was written: the statement
    failed before it ran, and the request's transaction is rolled back.
    """
    reason = str(getattr(exc, "orig", None) or exc)
    if "NUL" in reason or "0x00" in reason:
        message = UNSTORABLE_TEXT
    elif "out of range" in reason:
        message = OUT_OF_RANGE
    else:
        log.error("%s %s: the database refused a value", request.method, request.url.path)
        return _detail(500, "internal error")
    log.info("%s %s: refused: %s", request.method, request.url.path, message)
    return JSONResponse(
        {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]}, status_code=422
    )


def _json_safe(value: Any) -> Any:
    """`value` with the floats JSON cannot carry (NaN, Infinity) written as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422, except that a NaN or Infinity sent in a body is echoed as text."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mappings on `app`."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(RedisConnectionError, _redis_unavailable)
    app.add_exception_handler(RedisTimeoutError, _redis_unavailable)
    app.add_exception_handler(DataError, _unstorable_value)
