"""Signed links for many calls at once: the recording column of a CSV or XLSX export.

An export lists thousands of calls, so the stored recordings are looked up a batch of calls
at a time rather than per call. A link works in a browser, without a session or an API key,
until it expires (the instance's recording link lifetime); the file then holds a dead link,
which reopening the export renews.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.recordings.links import issue_link
from ringtrail.recordings.policy import RecordingStatus
from ringtrail.storage.models import Recording


def recording_tokens(
    db: Session, call_ids: Iterable[int], secret: str, ttl_seconds: int, now: datetime
) -> dict[int, str]:
    """A signed token per call of `call_ids` whose audio is stored (its newest recording)."""
    ids = sorted(set(call_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(Recording.call_id, Recording.id)
        .where(
            Recording.call_id.in_(ids),
            Recording.status == RecordingStatus.STORED,
            Recording.storage_key.is_not(None),
            Recording.storage_key != "",
        )
        .order_by(Recording.call_id, Recording.id)
    )
    newest: dict[int, int] = {}
    for call_id, recording_id in rows:
        newest[call_id] = recording_id
    return {
        call_id: issue_link(secret, recording_id, now, ttl_seconds).token
        for call_id, recording_id in newest.items()
    }
