"""Bounded, expiring per-project counter rows: the storage side shared by the refusal logs.

Both the refused-visits log (`services/refusals.py`) and the refused-webhook log
(`services/webhook_refusals.py`) keep one row per distinct refusal with a count and the time
it was last seen, at most so many rows per project, and forget rows not seen for a while.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, delete, func, select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def make_room(connection: Connection, table: Table, project_id: int, max_rows: int) -> None:
    """Delete the project's least recently seen rows so that one more fits under `max_rows`."""
    rows = connection.scalar(
        select(func.count()).select_from(table).where(table.c.project_id == project_id)
    )
    extra = (rows or 0) - max_rows + 1
    if extra <= 0:
        return
    stalest = (
        select(table.c.id)
        .where(table.c.project_id == project_id)
        .order_by(table.c.last_seen_at, table.c.id)
        .limit(extra)
    )
    connection.execute(delete(table).where(table.c.id.in_(stalest.scalar_subquery())))


def latest(db: Session, model: type[Row], project_id: int, limit: int) -> list[Row]:
    """The project's rows of `model`, the most recently seen first."""
    columns: Any = model
    query = (
        select(model)
        .where(columns.project_id == project_id)
        .order_by(columns.last_seen_at.desc(), columns.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def purge_seen_before(engine: Engine, table: Table, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` rows last seen before `cutoff`; how many went."""
    stale = select(table.c.id).where(table.c.last_seen_at < cutoff).limit(limit)
    with engine.begin() as connection:
        result = connection.execute(delete(table).where(table.c.id.in_(stale.scalar_subquery())))
    return int(result.rowcount or 0)
