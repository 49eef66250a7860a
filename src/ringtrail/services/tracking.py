"""Tracking numbers: adding, changing and removing them, and the lookups pools and rules share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.services.audit import record_row_change, snapshot
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.storage.models import Pool, Project, TrackingNumber

NUMBER_KINDS = ("static", "pool")
NUMBER_FIELDS = frozenset(
    [
        "number",
        "kind",
        "pool_id",
        "is_pool_default",
        "label",
        "source",
        "medium",
        "campaign",
        "offline_only",
        "forward_to",
        "provider",
        "provider_ref",
        "is_active",
    ]
)
_STATIC_ONLY = ("source", "medium", "campaign", "offline_only")


def reject_unknown(values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise InvalidInput naming the first key of `values` that is not in `allowed`."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")


def parse_phone(raw: str, project: Project, field: str) -> str:
    """`raw` as E.164 read with the project's default country, or InvalidInput naming `field`."""
    try:
        return to_e164(raw, project.default_country)
    except InvalidPhoneNumber as exc:
        raise InvalidInput(field, str(exc)) from exc


def flush_or_conflict(db: Session, message: str) -> None:
    """Flush; a unique index that a concurrent writer won is a Conflict, not a crash."""
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc


def ensure_untracked(
    db: Session, e164: str, field: str, number_id: int | None = None, *, project: Project
) -> None:
    """Conflict when `e164` is tracked already (by a number other than `number_id`).

    Numbers are unique in the whole installation, but a clash with another project's number
    says no more than that: not whose it is, nor anything about it.
    """
    query = select(TrackingNumber.project_id).where(TrackingNumber.e164 == e164)
    if number_id is not None:
        query = query.where(TrackingNumber.id != number_id)
    holder = db.scalar(query.limit(1))
    if holder is None:
        return
    if holder == project.id:
        raise Conflict(f"{field}: {e164} is already tracked in this project")
    raise Conflict(f"{field}: this number is already in use in this installation")


def list_numbers(
    db: Session, project: Project, *, kind: str | None = None, pool_id: int | None = None
) -> list[TrackingNumber]:
    """The project's numbers, oldest first, optionally of one kind or one pool."""
    query = select(TrackingNumber).where(TrackingNumber.project_id == project.id)
    if kind is not None:
        query = query.where(TrackingNumber.kind == kind)
    if pool_id is not None:
        query = query.where(TrackingNumber.pool_id == pool_id)
    return list(db.scalars(query.order_by(TrackingNumber.id)))


def get_number(db: Session, project: Project, number_id: int) -> TrackingNumber:
    """The project's number, or NotFound (also for another project's number)."""
    number = db.get(TrackingNumber, number_id)
    if number is None or number.project_id != project.id:
        raise NotFound("no such tracking number")
    return number


def add_number(db: Session, project: Project, values: Mapping[str, Any]) -> TrackingNumber:
    """Start tracking a number: static (one source) or in one of the project's pools."""
    reject_unknown(values, NUMBER_FIELDS)
    if not values.get("number"):
        raise InvalidInput("number", "required")
    number = TrackingNumber(project_id=project.id, kind=values.get("kind") or "static")
    _apply_number(db, project, number, values)
    db.add(number)
    flush_or_conflict(db, "the number is already tracked or its pool has a default number")
    record_row_change(db, project, "number.create", number, {}, snapshot(number))
    return number


def change_number(
    db: Session, project: Project, number: TrackingNumber, changes: Mapping[str, Any]
) -> TrackingNumber:
    """Apply `changes`; fields a new kind does not carry are cleared unless given."""
    reject_unknown(changes, NUMBER_FIELDS)
    before = snapshot(number)
    _apply_number(db, project, number, changes)
    flush_or_conflict(db, "the number is already tracked or its pool has a default number")
    record_row_change(db, project, "number.update", number, before, snapshot(number))
    return number


def remove_number(db: Session, project: Project, number_id: int) -> None:
    """Stop tracking a number; calls keep the dialled number, rules lose their target."""
    number = get_number(db, project, number_id)
    record_row_change(db, project, "number.delete", number, snapshot(number), {})
    db.delete(number)
    db.flush()


def _apply_number(
    db: Session, project: Project, number: TrackingNumber, given: Mapping[str, Any]
) -> None:
    values = dict(given)
    kind = values.get("kind") or number.kind
    if kind not in NUMBER_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(NUMBER_KINDS)}")
    values["kind"] = kind
    if "number" in values:
        values["e164"] = parse_phone(values.pop("number") or "", project, "number")
        ensure_untracked(db, values["e164"], "number", number.id, project=project)
    if "forward_to" in values:
        raw = values["forward_to"]
        values["forward_to"] = parse_phone(raw, project, "forward_to") if raw else None
    if "label" in values:
        values["label"] = values["label"] or ""
    if kind == "pool":
        for field in _STATIC_ONLY:
            if values.get(field):
                raise InvalidInput(field, "only static numbers carry a source or go offline")
        values.update(source=None, medium=None, campaign=None, offline_only=False)
        pool_id = values.get("pool_id", number.pool_id)
        if pool_id is None:
            raise InvalidInput("pool_id", "required for a pool number")
        get_pool(db, project, pool_id, field="pool_id")
        if values.get("is_pool_default", number.is_pool_default):
            _ensure_no_other_default(db, pool_id, number.id)
    else:
        if values.get("pool_id") is not None:
            raise InvalidInput("pool_id", "only pool numbers belong to a pool")
        if values.get("is_pool_default"):
            raise InvalidInput("is_pool_default", "only a pool number can be a pool's default")
        values.update(pool_id=None, is_pool_default=False)
    for key, value in values.items():
        setattr(number, key, value)


def _ensure_no_other_default(db: Session, pool_id: int, number_id: int | None) -> None:
    query = select(TrackingNumber.e164).where(
        TrackingNumber.pool_id == pool_id, TrackingNumber.is_pool_default.is_(True)
    )
    if number_id is not None:
        query = query.where(TrackingNumber.id != number_id)
    other = db.scalar(query)
    if other is not None:
        raise Conflict(f"is_pool_default: the pool's default number is already {other}")


def get_pool(db: Session, project: Project, pool_id: int, *, field: str | None = None) -> Pool:
    """The project's pool; else NotFound, or InvalidInput naming `field` when it is a reference."""
    pool = db.get(Pool, pool_id)
    if pool is None or pool.project_id != project.id:
        if field is not None:
            raise InvalidInput(field, "no such pool in this project")
        raise NotFound("no such pool")
    return pool
