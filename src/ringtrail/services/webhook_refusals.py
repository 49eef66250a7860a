"""The webhook refusal log: provider requests refused for their sender or as replays, per project.

A provider's webhook that refuses a request it has tied to a project (the URL names the
project) notes it here: which provider, why (`WebhookRefusalReason`), the sender's address and
the reason in words. One row per (project, provider, reason, address) counts repeats, so
Binotel's six tries of one call from a server missing from the list are one row with count 6.
Refusals are rare and written at once (one short upsert); a project keeps at most
`MAX_ROWS_PER_PROJECT` rows (a new one replaces the one seen longest ago), so a flood of
requests from made-up addresses cannot grow the table, and rows not seen for
`RETENTION_DAYS` are purged by the retention job. A failed write is logged, never raised: the
log is diagnostics and must not turn a 403 into a 500.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Connection, Engine, Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringtrail.services.refusal_rows import latest, make_room, purge_seen_before
from ringtrail.storage.models import WebhookRefusal

log = logging.getLogger(__name__)

MAX_ROWS_PER_PROJECT = 200
RETENTION_DAYS = 30

_refusals = cast(Table, WebhookRefusal.__table__)


class WebhookRefusalReason(StrEnum):
    """Why a provider's request was refused (the `reason` column)."""

    SENDER_NOT_ALLOWED = "sender_not_allowed"
    REPLAYED_NOTIFICATION = "replayed_notification"


def note_webhook_refusal(
    engine: Engine,
    *,
    project_id: int,
    provider: str,
    reason: WebhookRefusalReason,
    address: str,
    detail: str,
    now: datetime,
    max_rows: int = MAX_ROWS_PER_PROJECT,
) -> None:
    """Count one refused request of `provider` from `address` on the project's row."""
    key = (project_id, provider[:40], reason.value, (address or "unknown")[:64])
    try:
        _store(engine, key, detail[:300], now, max_rows)
    except Exception:
        log.warning("could not write a webhook refusal", exc_info=True)


Key = tuple[int, str, str, str]


def _store(engine: Engine, key: Key, detail: str, now: datetime, max_rows: int) -> None:
    try:
        with engine.begin() as connection:
            if not _add(connection, key, detail, now):
                make_room(connection, _refusals, key[0], max_rows)
                connection.execute(
                    insert(_refusals).values(
                        project_id=key[0],
                        provider=key[1],
                        reason=key[2],
                        address=key[3],
                        detail=detail,
                        count=1,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
    except IntegrityError:  # another process made the row meanwhile
        with engine.begin() as connection:
            _add(connection, key, detail, now)


def _add(connection: Connection, key: Key, detail: str, now: datetime) -> bool:
    project_id, provider, reason, address = key
    result = connection.execute(
        update(_refusals)
        .where(
            _refusals.c.project_id == project_id,
            _refusals.c.provider == provider,
            _refusals.c.reason == reason,
            _refusals.c.address == address,
        )
        .values(count=_refusals.c.count + 1, last_seen_at=now, detail=detail)
    )
    return bool(result.rowcount)


def list_webhook_refusals(db: Session, project_id: int, limit: int = 100) -> list[WebhookRefusal]:
    """The project's refused webhook requests, the most recently seen first."""
    return latest(db, WebhookRefusal, project_id, limit)


def purge_webhook_refusals(engine: Engine, now: datetime, limit: int = 500) -> int:
    """Delete up to `limit` webhook refusals last seen more than RETENTION_DAYS before `now`."""
    return purge_seen_before(engine, _refusals, now - timedelta(days=RETENTION_DAYS), limit)
