"""Bulk inserts that know their ids up front, so generated rows can point at each other.

Ids are reserved before the insert (from the sequence on PostgreSQL, after the highest id on
SQLite) and written with plain executemany, which is much faster than RETURNING row by row.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from ringtrail.storage.models import Base


def reserve_ids(db: Session, model: type[Base], count: int) -> list[int]:
    """`count` unused primary keys for `model`'s table, ascending."""
    if count <= 0:
        return []
    table = cast(Table, model.__table__)
    if db.get_bind().dialect.name == "postgresql":
        rows = db.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        )
        return sorted(int(row[0]) for row in rows)
    highest = db.scalar(select(func.max(table.c.id))) or 0
    return list(range(highest + 1, highest + 1 + count))


def bulk_insert(db: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert `rows` with executemany; None is written as NULL so every row batches together."""
    if rows:
        db.execute(insert(model).execution_options(render_nulls=True), rows)


def insert_with_ids(db: Session, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` in bulk, each given a reserved id; returns the ids in row order."""
    ids = reserve_ids(db, model, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    bulk_insert(db, model, rows)
    return ids
