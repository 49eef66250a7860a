"""The audit log: recording who changed what, and reading it back a page at a time.

The services that change settings, roles, keys, provider accounts, retention and callers'
data call `record`; who acted comes from the session (`act_as`, set by the API's key check,
the dashboard's sign-in and the CLI), so the services keep their signatures. Secret fields
are written as changed, never with their values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ringtrail.services.errors import InvalidInput
from ringtrail.storage.encryption import EncryptedText
from ringtrail.storage.models import AuditEntry, Project

_ACTOR_KEY = "ringtrail.audit_actor"
HIDDEN_VALUE = "(changed)"
"""What a secret field's old and new values are written as."""
_NOT_SETTINGS = frozenset({"id", "project_id", "organization_id", "key_hash", "extra"})
MAX_PAGE = 200
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class Actor:
    """Who made a change: a signed-in user, an API key, the CLI or the system (jobs)."""

    kind: str
    id: int | None = None


SYSTEM = Actor("system")


def act_as(db: Session, actor: Actor) -> None:
    """Make `actor` the author of every change written through `db` from now on."""
    db.info[_ACTOR_KEY] = actor


def actor_of(db: Session) -> Actor:
    """Who acts through `db` (the system when nobody said)."""
    actor = db.info.get(_ACTOR_KEY)
    return actor if isinstance(actor, Actor) else SYSTEM


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(row: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The named attributes of `row`, or all its columns but keys and timestamps."""
    if fields is None:
        fields = [
            column.key
            for column in inspect(type(row)).columns
            if column.key not in _NOT_SETTINGS and not column.key.endswith("_at")
        ]
    return {name: getattr(row, name, None) for name in fields}


def secret_fields(row: Any) -> set[str]:
    """The columns of `row` stored encrypted: their values never reach the log."""
    return {
        column.key
        for column in inspect(type(row)).columns
        if isinstance(column.type, EncryptedText)
    }


def record_row_change(
    db: Session,
    project: Project,
    action: str,
    row: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> AuditEntry | None:
    """Log a change of one of the project's rows (`before` and `after` from `snapshot`).

    Nothing is written when no field changed, unless the row was created or deleted.
    """
    difference = changed(before, after, secret_fields(row))
    if not difference and not action.endswith((".create", ".delete")):
        return None
    return record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action=action,
        object_type=type(row).__tablename__,
        object_id=getattr(row, "id", None),
        changes=difference,
    )


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any], secret: Iterable[str] = ()
) -> dict[str, Any]:
    """The fields whose values differ: {field: {"old": ..., "new": ...}}, secrets hidden."""
    hidden = set(secret)
    out: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in hidden:
            out[name] = {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE}
        else:
            out[name] = {"old": _plain(old), "new": _plain(new)}
    return out


def record(
    db: Session,
    *,
    organization_id: int,
    project_id: int | None,
    action: str,
    object_type: str,
    object_id: int | str | None = None,
    changes: Mapping[str, Any] | None = None,
    subject_digest: str | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction (it is kept only if the change is)."""
    actor = actor_of(db)
    entry = AuditEntry(
        organization_id=organization_id,
        project_id=project_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=_plain(dict(changes or {})),
        subject_digest=subject_digest,
    )
    db.add(entry)
    db.flush()
    return entry


@dataclass(frozen=True)
class AuditPage:
    """Entries newest first, and the id to pass as `before` for the next page (None: last)."""

    items: list[AuditEntry]
    next_before: int | None


def list_entries(
    db: Session,
    *,
    project_id: int | None = None,
    organization_id: int | None = None,
    before: int | None = None,
    limit: int = DEFAULT_PAGE,
) -> AuditPage:
    """A page of a project's (or an organisation's) entries, newest first, before id `before`."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
    query = select(AuditEntry)
    if project_id is not None:
        query = query.where(AuditEntry.project_id == project_id)
    if organization_id is not None:
        query = query.where(AuditEntry.organization_id == organization_id)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(db.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)
