"""Test helper: calls and recording rows shaped the way call ingestion writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.storage.models import Call, Project, Recording, TelephonyAccount

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
# Starts like an MP3 with an ID3 tag; long enough to need several chunks and byte ranges.
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 300


def add_call(
    db: Session, project: Project | None, *, provider: str = "sip", started_at: datetime = T0
) -> Call:
    """An answered call of `project` (None: a call no project claims)."""
    call = Call(
        project_id=project.id if project is not None else None,
        provider=provider,
        provider_call_id=f"CA{uuid.uuid4().hex}",
        dialled_e164="+380441234567",
        caller_e164="+380671234567",
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=1),
        status="answered",
    )
    db.add(call)
    db.flush()
    return call


def add_recording(db: Session, call: Call, **values: Any) -> Recording:
    """A recording queued for the fetch job at T0, kept for a year after the call."""
    row: dict[str, Any] = {
        "call_id": call.id,
        "provider_url": "http://127.0.0.1:9/never-fetched",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": T0,
        "delete_after": call.started_at + timedelta(days=365),
        "duration_seconds": 60,
    }
    row.update(values)
    recording = Recording(**row)
    db.add(recording)
    db.flush()
    return recording


def add_account(
    db: Session, project: Project, provider: str, account_ref: str, secret: str, **config: Any
) -> TelephonyAccount:
    """The project's account with a telephony provider."""
    account = TelephonyAccount(
        project_id=project.id,
        provider=provider,
        account_ref=account_ref,
        secret=secret,
        config=config,
    )
    db.add(account)
    db.flush()
    return account


def reload(db: Session, recording: Recording) -> Recording:
    """The recording as the database has it now."""
    db.expire_all()
    fresh = db.get(Recording, recording.id)
    assert fresh is not None
    return fresh
