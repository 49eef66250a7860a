"""PostgreSQL: a new visitor's first visit and its lease in as few statements as can be.

A new visitor is most visit starts, and each round trip to the database costs more CPU than
the SQL it carries. Done step by step, a new visitor's start takes BEGIN, the visitor and
visit rows, the free slot, the lease row with the slot, and COMMIT. Here each statement runs
outside an explicit transaction (a single statement is atomic on its own):

- SQL backend, one statement: the visitor and its visit are inserted, the free slot next in
  reuse order is locked (`FOR UPDATE SKIP LOCKED`) and checked against its number, the slot's
  previous lease row is closed, the new lease row is written with the visit in its snapshot,
  and the slot is moved on; with no free slot the pool's overflow count goes up instead.
  Either all of it happens or none of it does. A slot whose number left the pool since the
  last sync is reported (nothing was leased, the visit stands): the caller drops that slot
  and leases the usual way.
- Redis backend, two statements around the Redis lease: the visitor and its visit, with the
  lease row's id drawn from its sequence (so Redis can record it with the hold at once); then
  the number's previous lease row closed and the new one written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Interval, Table, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from ringtrail.leases.base import LeaseOutcome, NewVisitorStart, PoolRef
from ringtrail.leases.history import hour_of
from ringtrail.storage.models import Visit
from ringtrail.storage.models.base import UTCDateTime

_visits = cast(Table, Visit.__table__)
VISIT_COLUMNS = tuple(c.name for c in _visits.c if c.name not in ("id", "visitor_id"))
"""The visit row's values the statement takes (`v_<column>` parameters)."""


# The new visitor and its visit, the CTEs both statements start with. The column names come
# from the model, never from input.
_NEW_ROWS = f"""
WITH new_visitor AS (
  INSERT INTO visitors (project_id, public_id, first_seen_at, last_seen_at, first_visit_id)
  VALUES (:project_id, :public_id, :now, :now, nextval(pg_get_serial_sequence('visits', 'id')))
  RETURNING id, first_visit_id
), new_visit AS (
  INSERT INTO visits (id, visitor_id, {", ".join(VISIT_COLUMNS)})
  SELECT first_visit_id, id, {", ".join(f":v_{name}" for name in VISIT_COLUMNS)}
  FROM new_visitor
  RETURNING id, visitor_id
)"""  # noqa: S608
_NEW_ROWS_TYPES = [
    *(bindparam(f"v_{c.name}", type_=c.type) for c in _visits.c if c.name in VISIT_COLUMNS),
    bindparam("now", type_=UTCDateTime()),
]


def _statement() -> TextClause:
    sql = (
        _NEW_ROWS  # noqa: S608 (a fixed text)
        + """, slot AS (
  SELECT number_id, held_until, lease_id FROM pool_slots
  WHERE pool_id = :pool_id AND held_until <= :free
  ORDER BY held_until, number_id
  LIMIT 1 FOR UPDATE SKIP LOCKED
), chosen AS (
  SELECT slot.number_id, slot.held_until, slot.lease_id, n.e164
  FROM slot JOIN tracking_numbers n ON n.id = slot.number_id AND n.pool_id = :pool_id
    AND n.is_active AND NOT n.is_pool_default
), released AS (
  UPDATE number_leases SET released_at = chosen.held_until,
    cooldown_until = chosen.held_until + :cooldown
  FROM chosen
  WHERE number_leases.id = chosen.lease_id AND number_leases.released_at IS NULL
  RETURNING number_leases.id
), new_lease AS (
  INSERT INTO number_leases (project_id, pool_id, number_id, visitor_id, visit_id, leased_at,
    last_heartbeat_at, hold_until, snapshot)
  SELECT :project_id, :pool_id, chosen.number_id, new_visit.visitor_id, new_visit.id, :now,
    :now, :hold_until, :snapshot || jsonb_build_object('visit_id', new_visit.id)
  FROM chosen CROSS JOIN new_visit
  WHERE (SELECT count(*) FROM released) >= 0
  RETURNING id, number_id
), taken AS (
  UPDATE pool_slots SET held_until = :hold_until, lease_id = new_lease.id
  FROM new_lease WHERE pool_slots.number_id = new_lease.number_id
  RETURNING pool_slots.number_id
), overflow AS (
  INSERT INTO pool_overflows (pool_id, hour_start, count)
  SELECT :pool_id, :hour, 1 WHERE NOT EXISTS (SELECT 1 FROM slot)
  ON CONFLICT (pool_id, hour_start) DO UPDATE SET count = pool_overflows.count + 1
  RETURNING 1
)
SELECT new_visit.id AS visit_id, new_visit.visitor_id AS visitor_id,
  (SELECT number_id FROM slot) AS slot_number_id,
  (SELECT e164 FROM chosen) AS e164,
  (SELECT id FROM new_lease) AS lease_id
FROM new_visit
"""
    )
    return text(sql).bindparams(
        *_NEW_ROWS_TYPES,
        bindparam("free", type_=UTCDateTime()),
        bindparam("hold_until", type_=UTCDateTime()),
        bindparam("hour", type_=UTCDateTime()),
        bindparam("cooldown", type_=Interval()),
        bindparam("snapshot", type_=JSONB()),
    )


_NEW_VISITOR_VISIT_AND_LEASE = _statement()


def _visitor_and_visit() -> TextClause:
    sql = (
        _NEW_ROWS
        + """
SELECT new_visit.id AS visit_id, new_visit.visitor_id AS visitor_id,
  nextval(pg_get_serial_sequence('number_leases', 'id')) AS lease_id
FROM new_visit
"""
    )
    return text(sql).bindparams(*_NEW_ROWS_TYPES)


_NEW_VISITOR_AND_VISIT = _visitor_and_visit()
_LEASE_WITH_ID = text("""
WITH released AS (
  UPDATE number_leases SET released_at = least(hold_until, :now),
    cooldown_until = least(hold_until, :now) + :cooldown
  WHERE number_id = :number_id AND released_at IS NULL
  RETURNING id
)
INSERT INTO number_leases (id, project_id, pool_id, number_id, visitor_id, visit_id, leased_at,
  last_heartbeat_at, hold_until, snapshot)
SELECT :lease_id, :project_id, :pool_id, :number_id, :visitor_id, :visit_id, :now, :now,
  :hold_until, :snapshot
WHERE (SELECT count(*) FROM released) >= 0
""").bindparams(
    bindparam("now", type_=UTCDateTime()),
    bindparam("hold_until", type_=UTCDateTime()),
    bindparam("cooldown", type_=Interval()),
    bindparam("snapshot", type_=JSONB()),
)


@dataclass(frozen=True)
class FirstVisit:
    """What the statement did; `stale_slot` is the slot whose number had left the pool."""

    start: NewVisitorStart
    stale_slot: int | None


def start_new_visitor(
    connection: Connection,
    pool: PoolRef,
    *,
    public_id: str,
    visit: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    now: datetime,
) -> FirstVisit:
    """Run the statement on `connection` (in autocommit mode: it commits on its own).

    `visit` holds the visit row's values by column name (all of VISIT_COLUMNS)."""
    hold_until = now + pool.timings.grace
    params: dict[str, Any] = {f"v_{name}": visit[name] for name in VISIT_COLUMNS}
    params.update(
        project_id=pool.project_id,
        public_id=public_id,
        now=now,
        pool_id=pool.pool_id,
        free=now - pool.timings.cooldown,
        cooldown=pool.timings.cooldown,
        hold_until=hold_until,
        hour=hour_of(now),
        snapshot=dict(snapshot),
    )
    row = connection.execute(_NEW_VISITOR_VISIT_AND_LEASE, params).one()
    outcome: LeaseOutcome | None
    stale: int | None = None
    if row.lease_id is not None:
        outcome = LeaseOutcome(row.slot_number_id, row.e164, False, row.lease_id, hold_until, False)
    elif row.slot_number_id is None:
        outcome = LeaseOutcome.overflow_to(pool)
    else:
        outcome, stale = None, int(row.slot_number_id)
    return FirstVisit(NewVisitorStart(int(row.visitor_id), int(row.visit_id), outcome), stale)


@dataclass(frozen=True)
class NewRows:
    """A new visitor and its visit, written; `lease_id` is drawn for the lease to come."""

    visitor_id: int
    visit_id: int
    lease_id: int


def insert_visitor_and_visit(
    connection: Connection,
    project_id: int,
    *,
    public_id: str,
    visit: Mapping[str, Any],
    now: datetime,
) -> NewRows:
    """The Redis backend's first statement, on an autocommit `connection`."""
    params: dict[str, Any] = {f"v_{name}": visit[name] for name in VISIT_COLUMNS}
    params.update(project_id=project_id, public_id=public_id, now=now)
    row = connection.execute(_NEW_VISITOR_AND_VISIT, params).one()
    return NewRows(int(row.visitor_id), int(row.visit_id), int(row.lease_id))


def write_lease(
    connection: Connection,
    pool: PoolRef,
    rows: NewRows,
    *,
    number_id: int,
    snapshot: Mapping[str, Any],
    now: datetime,
    hold_until: datetime,
) -> None:
    """The Redis backend's second statement: close the number's live lease row (at its end,
    or now if it had not ended) and write the new one under `rows.lease_id`."""
    connection.execute(
        _LEASE_WITH_ID,
        {
            "lease_id": rows.lease_id,
            "project_id": pool.project_id,
            "pool_id": pool.pool_id,
            "number_id": number_id,
            "visitor_id": rows.visitor_id,
            "visit_id": rows.visit_id,
            "now": now,
            "hold_until": hold_until,
            "cooldown": pool.timings.cooldown,
            "snapshot": {**snapshot, "visit_id": rows.visit_id},
        },
    )
