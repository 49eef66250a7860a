"""The retention job: deletes audio whose `delete_after` has passed; the row stays as history.

`delete_after` is set when a recording is queued or uploaded: the call's start plus the
project's `recording_retention_days`. An expired recording's file is deleted from the store,
then the row becomes `deleted` with its `storage_key` cleared (size, type and duration stay
for reports). A recording still waiting to be fetched is marked `deleted` without a fetch.
The row is changed only if nobody changed it since it was read, so an upload or a fetch that
lands meanwhile is looked at again on the next pass.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, select, update

from ringtrail.recordings.policy import RecordingStatus
from ringtrail.recordings.storage import RecordingStore
from ringtrail.storage.models import Recording

log = logging.getLogger(__name__)

recordings = cast(Table, Recording.__table__)


def delete_expired_recordings(
    engine: Engine, store: RecordingStore, now: datetime, limit: int = 500
) -> int:
    """Delete the audio of up to `limit` recordings past their retention; returns how many."""
    with engine.connect() as connection:
        expired = connection.execute(
            select(recordings.c.id, recordings.c.status, recordings.c.storage_key)
            .where(
                recordings.c.delete_after <= now,
                recordings.c.status != RecordingStatus.DELETED,
            )
            .order_by(recordings.c.delete_after, recordings.c.id)
            .limit(limit)
        ).all()
    deleted = 0
    for row in expired:
        if row.storage_key:
            try:
                store.delete(row.storage_key)
            except Exception:  # the store is down: keep the row as it is, try next pass
                log.exception("could not delete recording %s (%s)", row.id, row.storage_key)
                continue
        unchanged = (
            recordings.c.storage_key.is_(None)
            if row.storage_key is None
            else recordings.c.storage_key == row.storage_key
        )
        with engine.begin() as connection:
            result = connection.execute(
                update(recordings)
                .where(recordings.c.id == row.id, recordings.c.status == row.status, unchanged)
                .values(status=RecordingStatus.DELETED, storage_key=None, next_attempt_at=None)
            )
        deleted += result.rowcount
    return deleted
