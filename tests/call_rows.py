"""Test helper: calls, tags, recordings and events stored the way call ingestion stores them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.storage.models import (
    Call,
    CallEvent,
    CallTag,
    Project,
    Recording,
    Tag,
    Visit,
    Visitor,
)

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
_serial = itertools.count(1)


def add_call(db: Session, project: Project, **values: Any) -> Call:
    """A call of `project` (answered, from a Kyiv mobile, to a tracking number) with `values`."""
    serial = next(_serial)
    started_at = values.pop("started_at", T0)
    row: dict[str, Any] = {
        "project_id": project.id,
        "provider": "twilio",
        "provider_call_id": f"CA{serial:032d}",
        "caller_e164": "+380671234567",
        "dialled_e164": "+380441234567",
        "started_at": started_at,
        "answered_at": started_at + timedelta(seconds=5),
        "ended_at": started_at + timedelta(seconds=65),
        "duration_seconds": 65,
        "talk_seconds": 60,
        "status": "answered",
        "is_first_time": True,
        "is_unique": True,
        "is_target": None,
        "needs_callback": False,
    }
    row.update(values)
    call = Call(**row)
    db.add(call)
    db.flush()
    return call


def tag_call(db: Session, call: Call, *names: str) -> None:
    """Put the project's tags `names` (created when new) on `call`."""
    for name in names:
        tag = db.query(Tag).filter_by(project_id=call.project_id, name=name).one_or_none()
        if tag is None:
            tag = Tag(project_id=call.project_id, name=name)
            db.add(tag)
            db.flush()
        db.add(CallTag(call_id=call.id, tag_id=tag.id))
    db.flush()


def add_recording(db: Session, call: Call) -> Recording:
    """A fetched recording of `call`."""
    recording = Recording(call_id=call.id, status="fetched", content_type="audio/mpeg")
    db.add(recording)
    db.flush()
    return recording


def add_event(db: Session, call: Call, event_type: str, occurred_at: datetime) -> CallEvent:
    """A provider event of `call`, received a second after it happened."""
    event = CallEvent(
        project_id=call.project_id,
        call_id=call.id,
        provider=call.provider,
        dedupe_key=f"{call.provider}:{call.provider_call_id}:{event_type}",
        event_type=event_type,
        occurred_at=occurred_at,
        received_at=occurred_at + timedelta(seconds=1),
        payload={"event": event_type},
    )
    db.add(event)
    db.flush()
    return event


def add_visit(db: Session, project: Project, **ids: Any) -> Visit:
    """A visit of a new visitor of `project` with the click and analytics ids `ids`."""
    serial = next(_serial)
    visitor = Visitor(
        project_id=project.id, public_id=f"v{serial:012d}", first_seen_at=T0, last_seen_at=T0
    )
    db.add(visitor)
    db.flush()
    visit = Visit(
        project_id=project.id, visitor_id=visitor.id, started_at=T0, last_seen_at=T0, **ids
    )
    db.add(visit)
    db.flush()
    return visit


def add_stored_recording(db: Session, call: Call) -> Recording:
    """A recording of `call` whose audio is in the store."""
    recording = Recording(
        call_id=call.id,
        status="stored",
        content_type="audio/mpeg",
        storage_key=f"recordings/{call.id}.mp3",
    )
    db.add(recording)
    db.flush()
    return recording
