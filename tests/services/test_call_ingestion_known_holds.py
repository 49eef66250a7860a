"""A repeat caller reaches their first session even on a busy pool number.

Ingestion reads only the most recent holds of the dialled number (HOLD_LIMIT); a caller's
earlier calls name their visitors, whose holds of the number are read as well, so
`domain.attribution` can prefer them however many holds came since."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.call_ingestion import HOLD_LIMIT, CallIngestion
from ringtrail.storage.models import Call, NumberLease, TrackingNumber, Visit, Visitor
from tests.conftest import World
from tests.services.test_call_ingestion import POOL, T0, answered_call, ingestion, numbers

__all__ = ["ingestion", "numbers"]


def hold(db: Session, world: World, name: str, start: datetime, campaign: str) -> NumberLease:
    """Visitor `name` held POOL[0] for 18 minutes from `start`."""
    project = world.ours.project
    visitor = Visitor(
        project_id=project.id, public_id=name, first_seen_at=start, last_seen_at=start
    )
    db.add(visitor)
    db.flush()
    visit = Visit(
        project_id=project.id,
        visitor_id=visitor.id,
        started_at=start,
        last_seen_at=start,
        source="google",
        medium="cpc",
        campaign=campaign,
    )
    db.add(visit)
    db.flush()
    number = db.scalars(select(TrackingNumber).where(TrackingNumber.e164 == POOL[0])).one()
    lease = NumberLease(
        project_id=project.id,
        pool_id=number.pool_id,
        number_id=number.id,
        visitor_id=visitor.id,
        visit_id=visit.id,
        leased_at=start,
        last_heartbeat_at=start + timedelta(minutes=3),
        hold_until=start + timedelta(minutes=18),
        released_at=start + timedelta(minutes=18),
        snapshot={"source": "google", "medium": "cpc", "campaign": campaign},
    )
    db.add(lease)
    db.commit()
    return lease


def test_a_repeat_caller_reaches_the_first_session_past_the_recent_holds(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int], world: World
) -> None:
    day_before = T0 - timedelta(days=1)
    first_hold = hold(db, world, "first", day_before, "implants")
    ingestion.ingest_many(answered_call("c1", POOL[0], at=-86400 + 300))
    db.expire_all()
    first = db.scalars(select(Call).where(Call.provider_call_id == "c1")).one()
    assert (first.attribution_kind, first.visit_id) == ("session", first_hold.visit_id)

    # A busy day: more visitors hold the number after them than ingestion reads by recency.
    for i in range(HOLD_LIMIT + 5):
        hold(db, world, f"later-{i}", day_before + timedelta(hours=1, minutes=30 * i), "other")

    ingestion.ingest_many(answered_call("c2", POOL[0], at=0))

    db.expire_all()
    again = db.scalars(select(Call).where(Call.provider_call_id == "c2")).one()
    assert again.attribution_kind == "session"
    assert (again.visitor_id, again.visit_id) == (first_hold.visitor_id, first_hold.visit_id)
    assert again.campaign == "implants"
    assert "called from this visitor's sessions before" in again.attribution_reason
