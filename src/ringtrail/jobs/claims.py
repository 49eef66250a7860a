"""Which row a polling job claims next: the one due longest, past rows other workers hold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, ScalarSelect, Table, select


def oldest_due_id(engine: Engine, table: Table, due: Any) -> ScalarSelect[Any]:
    """The id of `table`'s row meeting `due` that is due longest (`next_attempt_at`, then id),
    as a subquery for the claiming UPDATE; on PostgreSQL it skips rows locked by another claim."""
    pick = select(table.c.id).where(due).order_by(table.c.next_attempt_at, table.c.id).limit(1)
    if engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return pick.scalar_subquery()
