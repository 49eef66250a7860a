"""Recording use cases the API and the jobs share: finding a call's audio, issuing its link,
storing an upload, and the project account a fetch authenticates with.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.recordings.links import RecordingLink, issue_link
from ringtrail.recordings.policy import (
    RecordingStatus,
    is_accepted_type,
    recording_key,
    retention_deadline,
    settle_content_type,
)
from ringtrail.recordings.resolvers import ProviderAccount
from ringtrail.recordings.storage import RecordingStore
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import Call, Project, Recording, TelephonyAccount

log = logging.getLogger(__name__)

ACCOUNT_OF_PROVIDER = {"webhook": "sip"}
"""Calls of the generic signed webhook (provider `webhook`) are set up on the project's `sip`
account, the account whose webhook URL it is (`services.telephony_accounts.webhook_paths`)."""


@dataclass(frozen=True)
class LinkedRecording:
    """A call's stored recording and a signed link to its audio."""

    recording: Recording
    link: RecordingLink


def call_in_project(db: Session, project: Project, call_id: int) -> Call:
    """The call if it belongs to `project`; NotFound otherwise (other projects' calls too)."""
    call = db.get(Call, call_id)
    if call is None or call.project_id != project.id:
        raise NotFound("no such call")
    return call


def current_recording(db: Session, call: Call) -> Recording | None:
    """The call's newest stored recording, else its newest recording row of any status."""
    rows = db.scalars(
        select(Recording).where(Recording.call_id == call.id).order_by(Recording.id.desc())
    ).all()
    stored = [row for row in rows if row.status == RecordingStatus.STORED and row.storage_key]
    return stored[0] if stored else (rows[0] if rows else None)


def link_to_recording(
    db: Session, project: Project, call_id: int, secret: str, ttl_seconds: int, now: datetime
) -> LinkedRecording:
    """A signed link to the call's stored audio; NotFound (saying why) when there is none."""
    call = call_in_project(db, project, call_id)
    recording = current_recording(db, call)
    if recording is None:
        raise NotFound("the call has no recording")
    if recording.status != RecordingStatus.STORED or not recording.storage_key:
        raise NotFound(f"the call's recording is not stored (status: {recording.status})")
    return LinkedRecording(recording, issue_link(secret, recording.id, now, ttl_seconds))


def stored_recording(db: Session, recording_id: int) -> Recording:
    """The recording a signed link names, if its audio is still stored; NotFound otherwise."""
    recording = db.get(Recording, recording_id)
    if recording is None or recording.status != RecordingStatus.STORED:
        raise NotFound("the recording is no longer stored")
    if not recording.storage_key:
        raise NotFound("the recording is no longer stored")
    return recording


def save_upload(
    db: Session,
    store: RecordingStore,
    project: Project,
    call_id: int,
    body: IO[bytes],
    declared_type: str,
    now: datetime,
) -> Recording:
    """Store uploaded audio as the call's recording and commit; the replaced audio is deleted.

    The upload fills the call's newest recording row (a pending fetch is then not needed)
    unless a worker is fetching it right now; otherwise a new row is made. Commits itself,
    because the store and the row must agree: the new object is written first, the row then
    points at it, and only after the commit is the old object deleted.
    """
    if not is_accepted_type(declared_type):
        raise InvalidInput("body", f"{declared_type or 'no content type'} is not audio")
    call = call_in_project(db, project, call_id)
    head = body.read(16)
    body.seek(0)
    if not head:
        raise InvalidInput("body", "the recording is empty")
    content_type = settle_content_type(declared_type, head)
    latest = db.scalars(
        select(Recording)
        .where(Recording.call_id == call.id)
        .order_by(Recording.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is None or latest.status == RecordingStatus.FETCHING:
        latest = Recording(call_id=call.id, status=RecordingStatus.PENDING, attempts=0)
        db.add(latest)
        db.flush()
    key = recording_key(project.id, call.id, latest.id, f"u{uuid.uuid4().hex[:12]}", content_type)
    stored = store.put(key, body, content_type)
    replaced = latest.storage_key
    latest.status = RecordingStatus.STORED
    latest.storage_key = key
    latest.content_type = content_type
    latest.size_bytes = stored.size
    latest.fetched_at = now
    latest.next_attempt_at = None
    latest.error = None
    if latest.delete_after is None:
        latest.delete_after = retention_deadline(call.started_at, project.recording_retention_days)
    try:
        db.commit()
    except BaseException:
        db.rollback()
        store.delete(key)
        raise
    if replaced and replaced != key:
        try:
            store.delete(replaced)
        except Exception:  # the new audio is in place; an orphaned old file is only litter
            log.exception("could not delete replaced recording %s", replaced)
    return latest


def account_for_call(db: Session, call_id: int) -> tuple[str, ProviderAccount | None]:
    """The call's provider and the project's active account with it (None when it has none)."""
    call = db.get(Call, call_id)
    if call is None:
        raise NotFound("no such call")
    if call.project_id is None:
        return call.provider, None
    account = db.scalars(
        select(TelephonyAccount).where(
            TelephonyAccount.project_id == call.project_id,
            TelephonyAccount.provider == ACCOUNT_OF_PROVIDER.get(call.provider, call.provider),
            TelephonyAccount.is_active.is_(True),
        )
    ).first()
    if account is None:
        return call.provider, None
    return call.provider, ProviderAccount(account.account_ref, account.secret, dict(account.config))
