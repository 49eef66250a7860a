"""Keeping report rollups current: which local days changed, and rebuilding them.

(First version: the engine reads raw rows, so marking a day is a no-op until the rollup
tables exist. Callers that change calls or leads call `mark_calls_changed` already.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session


def mark_calls_changed(db: Session, project_id: int, started_ats: Iterable[datetime]) -> None:
    """Note that calls (or leads) of `project_id` starting at these instants have changed.

    The local days they fall on are rebuilt by the rollup job; until then reports read those
    days from the raw tables. Runs in the caller's transaction.
    """
    del db, project_id, started_ats
