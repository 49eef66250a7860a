"""Number pools: creating one with its numbers, changing it, and its size and default number."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.audit import record_row_change, snapshot
from ringtrail.services.errors import Conflict, InvalidInput
from ringtrail.services.tracking import (
    ensure_untracked,
    flush_or_conflict,
    get_pool,
    parse_phone,
    reject_unknown,
)
from ringtrail.storage.models import Pool, Project, SourceRule, TrackingNumber

POOL_FIELDS = frozenset({"name", "is_active", "grace_minutes", "cooldown_minutes"})
MAX_MINUTES = 24 * 60


@dataclass(frozen=True)
class PoolSummary:
    """A pool with what its read model shows beside the row: size and default number."""

    pool: Pool
    numbers_count: int
    default_number: str | None


def list_pools(db: Session, project: Project) -> list[Pool]:
    """The project's pools, oldest first."""
    return list(db.scalars(select(Pool).where(Pool.project_id == project.id).order_by(Pool.id)))


def summarize_pools(db: Session, pools: Sequence[Pool]) -> list[PoolSummary]:
    """Each pool with its number count and default number, in two queries for all of them."""
    ids = [pool.id for pool in pools]
    counts: dict[int, int] = {}
    defaults: dict[int, str] = {}
    if ids:
        in_pools = TrackingNumber.pool_id.in_(ids)
        counts_query = select(TrackingNumber.pool_id, func.count()).where(in_pools)
        for pool_id, count in db.execute(counts_query.group_by(TrackingNumber.pool_id)):
            if pool_id is not None:
                counts[pool_id] = count
        defaults_query = select(TrackingNumber.pool_id, TrackingNumber.e164).where(
            in_pools, TrackingNumber.is_pool_default.is_(True)
        )
        for pool_id, e164 in db.execute(defaults_query):
            if pool_id is not None:
                defaults[pool_id] = e164
    return [PoolSummary(p, counts.get(p.id, 0), defaults.get(p.id)) for p in pools]


@dataclass(frozen=True)
class PoolWarning:
    """Why a pool swaps nothing yet: a stable `code` for programs and a sentence for people."""

    code: str
    message: str


NO_RULE = PoolWarning(
    "no_rule",
    "no switched-on source rule shows this pool, so its numbers are never swapped in: add a "
    "rule that shows it, e.g. the catch-all rule (no conditions) for every visit",
)
NO_NUMBERS = PoolWarning("no_numbers", "the pool has no numbers yet: add some to it")


def shown_pool_ids(db: Session, pool_ids: Collection[int]) -> set[int]:
    """Which of `pool_ids` a switched-on source rule shows (the others swap nothing)."""
    if not pool_ids:
        return set()
    query = select(SourceRule.pool_id).where(
        SourceRule.pool_id.in_(pool_ids), SourceRule.is_active.is_(True)
    )
    return {pool_id for pool_id in db.scalars(query) if pool_id is not None}


def pool_warnings(db: Session, summaries: Sequence[PoolSummary]) -> dict[int, list[PoolWarning]]:
    """Each pool's warnings (empty list: it can swap), in one query for all of them."""
    shown = shown_pool_ids(db, [summary.pool.id for summary in summaries])
    warnings: dict[int, list[PoolWarning]] = {}
    for summary in summaries:
        found = [] if summary.pool.id in shown else [NO_RULE]
        if summary.numbers_count == 0:
            found.append(NO_NUMBERS)
        warnings[summary.pool.id] = found
    return warnings


def create_pool(
    db: Session,
    project: Project,
    values: Mapping[str, Any],
    *,
    numbers: Sequence[str] = (),
    default_number: str | None = None,
) -> Pool:
    """A new pool, optionally with its numbers; every number is checked before anything is written.

    `default_number` may be one of `numbers` or an extra one; either way it joins the pool as
    the number shown while all others are held.
    """
    reject_unknown(values, POOL_FIELDS)
    _check_pool_values(values)
    if not values.get("name"):
        raise InvalidInput("name", "required")
    parsed: list[str] = []
    for index, raw in enumerate(numbers):
        e164 = parse_phone(raw, project, f"numbers.{index}")
        if e164 in parsed:
            raise InvalidInput(f"numbers.{index}", f"{e164} is listed twice")
        parsed.append(e164)
    default = parse_phone(default_number, project, "default_number") if default_number else None
    if default is not None and default not in parsed:
        parsed.append(default)
    for index, e164 in enumerate(parsed):
        field = f"numbers.{index}" if index < len(numbers) else "default_number"
        ensure_untracked(db, e164, field, project=project)
    pool = Pool(project_id=project.id, **values)
    db.add(pool)
    db.flush()
    for e164 in parsed:
        db.add(
            TrackingNumber(
                project_id=project.id,
                e164=e164,
                kind="pool",
                pool_id=pool.id,
                is_pool_default=e164 == default,
            )
        )
    flush_or_conflict(db, "one of the numbers was tracked meanwhile")
    after = {**snapshot(pool), "numbers": parsed} if parsed else snapshot(pool)
    record_row_change(db, project, "pool.create", pool, {}, after)
    return pool


def change_pool(db: Session, pool: Pool, changes: Mapping[str, Any]) -> Pool:
    """Rename, switch on or off, or change the hold times (None = the project's default)."""
    reject_unknown(changes, POOL_FIELDS)
    _check_pool_values(changes)
    if "name" in changes and not changes["name"]:
        raise InvalidInput("name", "required")
    before = snapshot(pool)
    for key, value in changes.items():
        setattr(pool, key, value)
    db.flush()
    project = db.get(Project, pool.project_id)
    if project is not None:
        record_row_change(db, project, "pool.update", pool, before, snapshot(pool))
    return pool


def remove_pool(db: Session, project: Project, pool_id: int) -> None:
    """Delete an empty pool; one that still has numbers is a Conflict (move or delete them)."""
    pool = get_pool(db, project, pool_id)
    count = db.scalar(
        select(func.count(TrackingNumber.id)).where(TrackingNumber.pool_id == pool.id)
    )
    if count:
        raise Conflict(f"the pool still has {count} numbers; delete or move them first")
    record_row_change(db, project, "pool.delete", pool, snapshot(pool), {})
    db.delete(pool)
    db.flush()


def _check_pool_values(values: Mapping[str, Any]) -> None:
    for field in ("grace_minutes", "cooldown_minutes"):
        minutes = values.get(field)
        if minutes is not None and not 0 <= minutes <= MAX_MINUTES:
            raise InvalidInput(field, f"must be between 0 and {MAX_MINUTES} minutes")
