"""Unmatched SIP calls: a project's trunk claims them, or the operator gives them to one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.errors import InvalidInput
from ringtrail.services.telephony_accounts import set_account
from ringtrail.services.tracking import add_number
from ringtrail.services.unmatched_calls import assign_call, list_unmatched
from ringtrail.storage.models import AuditEntry, Call, CallEvent
from ringtrail.telephony.sip import parse_sip_event
from tests.conftest import World

UNTRACKED = "380443330000"
CARRIER = "192.0.2.10"
TS = 1795439048.5


def sip_call(call_id: str, did: str = UNTRACKED, source: str | None = CARRIER) -> list[Any]:
    """A whole answered call as Kamailio publishes it (with the INVITE's source address)."""
    base: dict[str, Any] = {"call_id": call_id, "did": did, "caller": "380501112233"}
    if source is not None:
        base["source"] = source
    messages = [
        {**base, "event": "started", "ts": f"{TS}"},
        {**base, "event": "answered", "ts": f"{TS + 2}"},
        {**base, "event": "ended", "ts": f"{TS + 62}", "ts_started": f"{TS}",
         "ts_answered": f"{TS + 2}"},
    ]  # fmt: skip
    return [event for message in messages for event in parse_sip_event(json.dumps(message))]


def ingest(runtime: Runtime, events: list[Any]) -> Call:
    CallIngestion(runtime.sessions).ingest_many(events)
    with runtime.sessions() as db:
        call_id = events[0].provider_call_id
        return db.scalars(select(Call).where(Call.provider_call_id == call_id)).one()


def test_a_call_to_an_untracked_number_through_a_projects_trunk_is_that_projects(
    runtime: Runtime, db: Session, world: World
) -> None:
    set_account(db, world.ours.project, "sip", {"account_ref": f"{CARRIER}, 198.51.100.7"})
    db.commit()
    call = ingest(runtime, sip_call("trunk-1"))
    assert call.project_id == world.ours.project.id
    assert (call.status, call.talk_seconds) == ("answered", 60)
    with runtime.sessions() as fresh:
        events = fresh.scalars(select(CallEvent.project_id).where(CallEvent.call_id == call.id))
        assert set(events) == {world.ours.project.id}


def test_without_a_known_trunk_the_call_stays_unmatched(
    runtime: Runtime, db: Session, world: World
) -> None:
    for tenant in (world.ours, world.outsider):  # one address, two projects: decides nothing
        set_account(db, tenant.project, "sip", {"account_ref": CARRIER})
    db.commit()
    assert ingest(runtime, sip_call("shared-1")).project_id is None
    assert ingest(runtime, sip_call("nosource-1", source=None)).project_id is None
    assert ingest(runtime, sip_call("other-1", source="203.0.113.9")).project_id is None
    listed = list_unmatched(db)  # newest first; same start, so the last stored first
    assert [(c.provider, c.source) for c in listed] == [
        ("sip", "203.0.113.9"),
        ("sip", None),
        ("sip", CARRIER),
    ]


def test_a_tracked_number_wins_over_the_trunk(runtime: Runtime, db: Session, world: World) -> None:
    add_number(db, world.outsider.project, {"number": "+380441234567", "source": "flyer"})
    set_account(db, world.ours.project, "sip", {"account_ref": CARRIER})
    db.commit()
    call = ingest(runtime, sip_call("number-1", did="380441234567"))
    assert call.project_id == world.outsider.project.id
    assert call.source == "flyer"


def test_an_owner_gives_an_unmatched_call_to_a_project_and_it_is_attributed_there(
    runtime: Runtime, db: Session, world: World
) -> None:
    call = ingest(runtime, sip_call("late-1", did="380441234567"))
    assert call.project_id is None
    add_number(db, world.ours.project, {"number": "+380441234567", "source": "billboard"})
    db.commit()
    assert [c.id for c in list_unmatched(db)] == [call.id]

    ingestion = CallIngestion(runtime.sessions)
    claimed = assign_call(db, ingestion, call.id, world.ours.project, datetime.now(UTC))
    db.commit()
    assert claimed == world.ours.project.id
    db.expire_all()
    fresh = db.get(Call, call.id)
    assert fresh is not None
    assert (fresh.project_id, fresh.source, fresh.status) == (
        world.ours.project.id,
        "billboard",
        "answered",
    )
    assert fresh.tracking_number_id is not None and fresh.lead_id is not None
    assert list_unmatched(db) == []
    assert db.scalars(select(AuditEntry.action)).all()[-1] == "call.assign"
    with pytest.raises(InvalidInput):
        assign_call(db, ingestion, call.id, world.outsider.project, datetime.now(UTC))


def test_an_assigned_answered_call_settles_the_callers_earlier_missed_call(
    runtime: Runtime, db: Session, world: World
) -> None:
    add_number(db, world.ours.project, {"number": "+380441234567", "source": "billboard"})
    db.commit()
    base = {"call_id": "missed-1", "did": "380441234567", "caller": "380501112233"}
    missed_messages = [
        {**base, "event": "started", "ts": f"{TS - 600}"},
        {**base, "event": "ended", "ts": f"{TS - 570}", "ts_started": f"{TS - 600}"},
    ]
    missed_events = [e for m in missed_messages for e in parse_sip_event(json.dumps(m))]
    missed = ingest(runtime, missed_events)
    assert (missed.project_id, missed.needs_callback) == (world.ours.project.id, True)
    later = ingest(runtime, sip_call("late-2", did=UNTRACKED, source=None))
    assert later.project_id is None

    assign_call(
        db, CallIngestion(runtime.sessions), later.id, world.ours.project, datetime.now(UTC)
    )
    db.commit()
    db.expire_all()
    settled = db.get(Call, missed.id)
    assert settled is not None and settled.needs_callback is False
