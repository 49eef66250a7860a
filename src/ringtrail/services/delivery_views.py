"""What the integrations pages need beside the delivery log (`services.deliveries.log`): how
each destination's deliveries of the last hours stand, by status, and where a day of the
project begins."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.storage.models import OutboundDelivery


def recent_counts(db: Session, project_id: int, since: datetime) -> dict[int, dict[str, int]]:
    """Per destination, how many deliveries queued since `since` are in each status."""
    query = (
        select(OutboundDelivery.destination_id, OutboundDelivery.status, func.count())
        .where(
            OutboundDelivery.project_id == project_id,
            OutboundDelivery.destination_id.is_not(None),
            OutboundDelivery.created_at >= since,
        )
        .group_by(OutboundDelivery.destination_id, OutboundDelivery.status)
    )
    found: dict[int, dict[str, int]] = {}
    for destination_id, status, count in db.execute(query):
        if destination_id is not None:
            found.setdefault(destination_id, {})[str(status)] = int(count)
    return found


def day_start(day: date, timezone: str) -> datetime:
    """The instant `day` begins in the project's time zone (UTC for an unknown zone)."""
    return datetime.combine(day, time(), zone_of(timezone))


def zone_of(timezone: str) -> ZoneInfo:
    """The project's time zone (UTC for one this system does not know)."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
