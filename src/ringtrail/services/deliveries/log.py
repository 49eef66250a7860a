"""The delivery log: what was sent where, when, the answer, and why not when it was not.

Entries are read per call or lead, per destination, by status and by day; the payload is
shown through the destination's `masked` (secrets and personal data hidden), never raw.
`daily_totals` counts deliveries per destination, day (in the project's time zone, by when
the delivery was queued) and status, so a marketer can set Ringtrail's count beside the ad
platform's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ringtrail.integrations.registry import destination as load_destination
from ringtrail.services.deliveries.destinations import config_of
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import IntegrationDestination, OutboundDelivery, Project

STATUSES = ("pending", "sending", "accepted", "rejected", "skipped", "dead")
DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_TOTAL_DAYS = 400
HIDDEN_PAYLOAD = {"hidden": "the destination cannot be loaded to mask this payload"}


@dataclass(frozen=True)
class DeliveryEntry:
    """One delivery as the log shows it; `payload` is masked."""

    id: int
    destination_id: int | None
    destination_name: str
    kind: str
    subject_kind: str
    subject_id: int
    event_name: str
    sequence: int
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    status_code: int | None
    reason_code: str | None
    reason: str | None
    error: str | None
    dedupe_key: str | None
    conversion: dict[str, Any] | None
    payload: dict[str, Any]
    response: dict[str, Any]


@dataclass(frozen=True)
class DeliveryPage:
    """Entries newest first, and the id to pass as `before` for the next page (None: last)."""

    items: list[DeliveryEntry]
    next_before: int | None


@dataclass(frozen=True)
class DailyTotal:
    """How many deliveries of one destination were queued on one day, by status."""

    day: date
    destination_id: int
    destination_name: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _masked(row: OutboundDelivery, destination: IntegrationDestination | None) -> dict[str, Any]:
    if not row.payload:
        return {}
    if destination is None:
        return dict(HIDDEN_PAYLOAD)
    try:
        return load_destination(destination.kind).masked(dict(row.payload), config_of(destination))
    except Exception:  # a destination that cannot mask never shows the raw payload
        return dict(HIDDEN_PAYLOAD)


def entry_of(row: OutboundDelivery, destination: IntegrationDestination | None) -> DeliveryEntry:
    """The log's view of one delivery row."""
    return DeliveryEntry(
        id=row.id,
        destination_id=row.destination_id,
        destination_name=destination.name if destination is not None else row.destination,
        kind=destination.kind if destination is not None else "",
        subject_kind=row.subject_kind,
        subject_id=row.subject_id,
        event_name=row.event_name,
        sequence=row.sequence,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        sent_at=row.sent_at,
        status_code=row.status_code,
        reason_code=row.reason_code,
        reason=row.reason,
        error=row.error,
        dedupe_key=row.dedupe_key,
        conversion=row.conversion,
        payload=_masked(row, destination),
        response=dict(row.response or {}),
    )


def _entries(db: Session, query: Select[OutboundDelivery]) -> list[DeliveryEntry]:
    rows = list(db.scalars(query))
    ids = {row.destination_id for row in rows if row.destination_id is not None}
    destinations = {
        row.id: row
        for row in db.scalars(
            select(IntegrationDestination).where(IntegrationDestination.id.in_(ids))
        )
    }
    return [entry_of(row, destinations.get(row.destination_id or 0)) for row in rows]


def _checked_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}")


def list_deliveries(
    db: Session,
    project: Project,
    *,
    status: str | None = None,
    destination_id: int | None = None,
    subject_kind: str | None = None,
    subject_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = DEFAULT_PAGE,
) -> DeliveryPage:
    """A page of the project's deliveries, newest first, filtered by what is given.

    `since` (inclusive) and `until` (exclusive) bound when a delivery was queued."""
    _checked_status(status)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
    if subject_kind is not None and subject_kind not in ("call", "lead"):
        raise InvalidInput("subject_kind", "must be call or lead")
    query = select(OutboundDelivery).where(OutboundDelivery.project_id == project.id)
    if status is not None:
        query = query.where(OutboundDelivery.status == status)
    if destination_id is not None:
        query = query.where(OutboundDelivery.destination_id == destination_id)
    if subject_kind is not None:
        query = query.where(OutboundDelivery.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(OutboundDelivery.subject_id == subject_id)
    if since is not None:
        query = query.where(OutboundDelivery.created_at >= since)
    if until is not None:
        query = query.where(OutboundDelivery.created_at < until)
    if before is not None:
        query = query.where(OutboundDelivery.id < before)
    items = _entries(db, query.order_by(OutboundDelivery.id.desc()).limit(limit + 1))
    more = len(items) > limit
    items = items[:limit]
    return DeliveryPage(items, items[-1].id if more and items else None)


def deliveries_of(
    db: Session, project: Project, subject_kind: str, subject_id: int
) -> list[DeliveryEntry]:
    """Every delivery about one call or lead, by destination and then in sending order."""
    if subject_kind not in ("call", "lead"):
        raise InvalidInput("subject_kind", "must be call or lead")
    return _entries(
        db,
        select(OutboundDelivery)
        .where(
            OutboundDelivery.project_id == project.id,
            OutboundDelivery.subject_kind == subject_kind,
            OutboundDelivery.subject_id == subject_id,
        )
        .order_by(OutboundDelivery.destination_id, OutboundDelivery.sequence, OutboundDelivery.id),
    )


def get_delivery(db: Session, project: Project, delivery_id: int) -> DeliveryEntry:
    """One delivery of the project; NotFound for another project's or none."""
    row = db.get(OutboundDelivery, delivery_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"no delivery {delivery_id} in this project")
    destination = (
        db.get(IntegrationDestination, row.destination_id)
        if row.destination_id is not None
        else None
    )
    return entry_of(row, destination)


def daily_totals(
    db: Session,
    project: Project,
    *,
    first_day: date,
    last_day: date,
    destination_id: int | None = None,
) -> list[DailyTotal]:
    """Deliveries per destination and day from `first_day` to `last_day` (both included, days
    in the project's time zone), each with its count per status; days with none left out."""
    if last_day < first_day:
        raise InvalidInput("last_day", "must not be before the first day")
    if (last_day - first_day).days >= MAX_TOTAL_DAYS:
        raise InvalidInput("last_day", f"a range is at most {MAX_TOTAL_DAYS} days")
    zone = ZoneInfo(project.timezone or "UTC")
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone)
    query = (
        select(
            OutboundDelivery.destination_id,
            OutboundDelivery.status,
            OutboundDelivery.created_at,
        )
        .where(
            OutboundDelivery.project_id == project.id,
            OutboundDelivery.destination_id.is_not(None),
            OutboundDelivery.created_at >= start,
            OutboundDelivery.created_at < end,
        )
        .execution_options(yield_per=5000)
    )
    if destination_id is not None:
        query = query.where(OutboundDelivery.destination_id == destination_id)
    counts: Counter[tuple[date, int, str]] = Counter()
    for dest, status, created_at in db.execute(query):
        if dest is not None:
            counts[(created_at.astimezone(zone).date(), dest, status)] += 1
    names = {
        row.id: row.name
        for row in db.scalars(
            select(IntegrationDestination).where(IntegrationDestination.project_id == project.id)
        )
    }
    grouped: dict[tuple[date, int], dict[str, int]] = {}
    for (day, dest, status), count in counts.items():
        grouped.setdefault((day, dest), {})[status] = count
    return [
        DailyTotal(day, dest, names.get(dest, str(dest)), dict(sorted(by_status.items())))
        for (day, dest), by_status in sorted(grouped.items())
    ]
