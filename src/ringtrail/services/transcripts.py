"""Call transcripts as use cases: queue one when a recording is stored, read one, import one a
provider made, ask for another try, find calls by what was said, and the hook that runs after a
transcript is stored (rules and the classifier plug in there).

A call has at most one transcript row (`call_transcripts`); the row is also the
transcription job's queue entry (jobs/transcription.py). Every stored recording gets one:
the job's pass queues those still missing (`queue_missing`), so a recording stored by a fetch,
an upload or anything later is never left out. A transcript imported from a provider is
never replaced by the local engine; a new import replaces it.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Engine, Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ringtrail.recordings.library import call_in_project
from ringtrail.recordings.policy import RecordingStatus
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.speech.engine import Segment, Transcript
from ringtrail.storage.models import Call, CallTranscript, Project, Recording

log = logging.getLogger(__name__)

transcripts = cast(Table, CallTranscript.__table__)
recordings = cast(Table, Recording.__table__)

MAX_SEGMENTS = 5_000
MAX_SEGMENT_CHARS = 5_000
MAX_SPEAKER_CHARS = 40
MAX_SEARCH_CHARS = 100
MAX_ERROR_CHARS = 2_000
PROVIDER_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,38}")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


class TranscriptStatus(StrEnum):
    """Where a transcript stands."""

    PENDING = "pending"  # waiting for the job (its first try, or the next after a failure)
    RUNNING = "running"  # a worker is transcribing it until `claimed_until`
    DONE = "done"  # segments and text are there
    FAILED = "failed"  # given up; `error` says why; a retry queues it again
    CLEARED = "cleared"  # the project's transcript retention ran out: the text is gone


class TranscriptSource(StrEnum):
    """Who made the transcript."""

    LOCAL = "local"  # this server's speech engine
    PROVIDER = "provider"  # imported from a telephony provider that transcribes


@dataclass(frozen=True)
class TranscriptView:
    """A call's transcript as the API, dashboard and CLI show it."""

    call_id: int
    recording_id: int | None
    status: str
    progress: float
    attempts: int
    next_attempt_at: datetime | None
    error: str | None
    engine: str | None
    model: str | None
    language: str | None
    source: str
    segments: tuple[Segment, ...]
    text: str
    updated_at: datetime | None


def view_of(row: CallTranscript) -> TranscriptView:
    """The row as shown."""
    return TranscriptView(
        call_id=row.call_id,
        recording_id=row.recording_id,
        status=row.status,
        progress=float(row.progress or 0.0),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        error=row.error,
        engine=row.engine,
        model=row.model,
        language=row.language,
        source=row.source,
        segments=tuple(Segment.from_json(item) for item in row.segments or ()),
        text=row.text or "",
        updated_at=row.updated_at,
    )


def transcript_of(db: Session, call_id: int) -> CallTranscript | None:
    """The call's transcript row, if it has one."""
    return db.scalars(select(CallTranscript).where(CallTranscript.call_id == call_id)).first()


def get_transcript(db: Session, project: Project, call_id: int) -> TranscriptView:
    """The call's transcript; NotFound (saying why) when there is none yet."""
    call = call_in_project(db, project, call_id)
    row = transcript_of(db, call.id)
    if row is None:
        raise NotFound("the call has no transcript: it has no stored recording yet")
    return view_of(row)


def queue_transcript(db: Session, call_id: int, recording_id: int, now: datetime) -> bool:
    """Queue the local transcription of the call's recording; False when nothing changed.

    A transcript of this very recording, or one imported from a provider, stays as it is; a
    transcript of an older recording of the call is done again for the new one.
    """
    row = transcript_of(db, call_id)
    if row is None:
        db.add(
            CallTranscript(
                call_id=call_id,
                recording_id=recording_id,
                status=TranscriptStatus.PENDING,
                progress=0.0,
                attempts=0,
                next_attempt_at=now,
                segments=[],
                source=TranscriptSource.LOCAL,
                updated_at=now,
            )
        )
        db.flush()
        return True
    if row.source == TranscriptSource.PROVIDER or row.recording_id == recording_id:
        return False
    row.recording_id = recording_id
    _requeue(row, now)
    return True


def _requeue(row: CallTranscript, now: datetime) -> None:
    row.status = TranscriptStatus.PENDING
    row.progress = 0.0
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_until = None
    row.error = None
    row.updated_at = now


def queue_missing(engine: Engine, now: datetime, limit: int = 100) -> int:
    """Queue a transcript for up to `limit` stored recordings whose call has none; how many.

    One INSERT ... SELECT: two workers racing insert the same call once (the unique call_id
    makes the loser's statement fail, and it simply queues nothing this pass).
    """
    newest = (
        select(recordings.c.call_id, func.max(recordings.c.id).label("recording_id"))
        .where(
            recordings.c.status == RecordingStatus.STORED,
            recordings.c.storage_key.is_not(None),
        )
        .group_by(recordings.c.call_id)
        .subquery()
    )
    missing = (
        select(newest.c.call_id, newest.c.recording_id)
        .outerjoin(transcripts, transcripts.c.call_id == newest.c.call_id)
        .where(transcripts.c.id.is_(None))
        .order_by(newest.c.recording_id)
        .limit(limit)
    )
    with engine.begin() as connection:
        rows = connection.execute(missing).all()
        if not rows:
            return 0
        values = [
            {
                "call_id": row.call_id,
                "recording_id": row.recording_id,
                "status": TranscriptStatus.PENDING,
                "progress": 0.0,
                "attempts": 0,
                "next_attempt_at": now,
                "segments": [],
                "source": TranscriptSource.LOCAL,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        try:
            with connection.begin_nested():
                connection.execute(insert(transcripts), values)
        except Exception:  # another worker queued some of them first
            log.info("queueing transcripts raced another worker; trying again next pass")
            return 0
    return len(values)


def queue_newer_recordings(engine: Engine, now: datetime, limit: int = 100) -> int:
    """Queue again the local transcripts whose call has a newer stored recording (a re-upload)."""
    newest = (
        select(recordings.c.call_id, func.max(recordings.c.id).label("recording_id"))
        .where(recordings.c.status == RecordingStatus.STORED)
        .group_by(recordings.c.call_id)
        .subquery()
    )
    stale = (
        select(transcripts.c.id, newest.c.recording_id)
        .join(newest, newest.c.call_id == transcripts.c.call_id)
        .where(
            transcripts.c.source == TranscriptSource.LOCAL,
            transcripts.c.status != TranscriptStatus.RUNNING,
            or_(
                transcripts.c.recording_id.is_(None),
                transcripts.c.recording_id < newest.c.recording_id,
            ),
        )
        .limit(limit)
    )
    count = 0
    with engine.begin() as connection:
        for row in connection.execute(stale).all():
            count += connection.execute(
                update(transcripts)
                .where(transcripts.c.id == row.id, transcripts.c.status != TranscriptStatus.RUNNING)
                .values(
                    recording_id=row.recording_id,
                    status=TranscriptStatus.PENDING,
                    progress=0.0,
                    attempts=0,
                    next_attempt_at=now,
                    claimed_until=None,
                    error=None,
                    updated_at=now,
                )
            ).rowcount
    return count


def retry_transcript(db: Session, project: Project, call_id: int, now: datetime) -> TranscriptView:
    """Transcribe the call's recording again now (after a failure, or to redo it); commits.

    Conflict while a worker is on it or when the transcript was imported from a provider;
    NotFound when the call has no stored recording to transcribe.
    """
    call = call_in_project(db, project, call_id)
    row = transcript_of(db, call.id)
    recording = db.scalars(
        select(Recording)
        .where(Recording.call_id == call.id, Recording.status == RecordingStatus.STORED)
        .order_by(Recording.id.desc())
        .limit(1)
    ).first()
    if row is not None and row.source == TranscriptSource.PROVIDER:
        raise Conflict("the transcript was imported from a provider: import it again to replace it")
    if row is not None and row.status == TranscriptStatus.RUNNING:
        raise Conflict("the call is being transcribed right now")
    if recording is None:
        raise NotFound("the call has no stored recording to transcribe")
    if row is None:
        queue_transcript(db, call.id, recording.id, now)
    else:
        row.recording_id = recording.id
        _requeue(row, now)
    db.commit()
    return get_transcript(db, project, call.id)


@dataclass(frozen=True)
class ImportedTranscript:
    """A transcript a provider made: its segments, language and the provider's name."""

    segments: Sequence[Segment]
    language: str | None = None
    provider: str = "provider"


def check_import(value: ImportedTranscript) -> ImportedTranscript:
    """`value` with its segments in time order, or InvalidInput saying what is wrong."""
    if not PROVIDER_SOURCE_NAME.fullmatch(value.provider):
        raise InvalidInput("provider", "1-39 letters, digits, spaces, dots, dashes, underscores")
    if value.language is not None and not LANGUAGE_CODE.fullmatch(value.language):
        raise InvalidInput("language", "a two- or three-letter language code such as en, ru, uk")
    if not value.segments:
        raise InvalidInput("segments", "at least one segment is needed")
    if len(value.segments) > MAX_SEGMENTS:
        raise InvalidInput("segments", f"at most {MAX_SEGMENTS} segments")
    for index, segment in enumerate(value.segments):
        where = f"segments[{index}]"
        if segment.start < 0 or segment.end < segment.start:
            raise InvalidInput(where, "start must be ≥ 0 and end ≥ start (seconds)")
        if not segment.text.strip():
            raise InvalidInput(where, "text is empty")
        if len(segment.text) > MAX_SEGMENT_CHARS:
            raise InvalidInput(where, f"text is longer than {MAX_SEGMENT_CHARS} characters")
        if len(segment.speaker) > MAX_SPEAKER_CHARS:
            raise InvalidInput(where, f"speaker is longer than {MAX_SPEAKER_CHARS} characters")
    ordered = sorted(value.segments, key=lambda s: (s.start, s.end))
    return ImportedTranscript(tuple(ordered), value.language, value.provider)


def import_transcript(
    db: Session, project: Project, call_id: int, value: ImportedTranscript, now: datetime
) -> tuple[TranscriptView, bool]:
    """Store a provider's transcript of the call (replacing any); commits. The second value
    is False when the same transcript was already stored (a repeated import changes nothing).
    """
    call = call_in_project(db, project, call_id)
    checked = check_import(value)
    segments = [segment.as_json() for segment in checked.segments]
    text = Transcript(checked.language, 0.0, tuple(checked.segments)).text
    engine_name = f"provider:{checked.provider}"
    row = transcript_of(db, call.id)
    if (
        row is not None
        and row.source == TranscriptSource.PROVIDER
        and row.status == TranscriptStatus.DONE
        and row.segments == segments
        and row.language == checked.language
        and row.engine == engine_name
    ):
        return view_of(row), False
    if row is None:
        row = CallTranscript(call_id=call.id, attempts=0, segments=[])
        db.add(row)
    row.status = TranscriptStatus.DONE
    row.source = TranscriptSource.PROVIDER
    row.progress = 1.0
    row.next_attempt_at = None
    row.claimed_until = None
    row.error = None
    row.engine = engine_name
    row.model = None
    row.language = checked.language
    row.segments = segments
    row.text = text
    row.updated_at = now
    db.flush()
    after_transcript(db, call, now)
    db.commit()
    return view_of(row), True


def clear_old_call_transcripts(
    engine: Engine, project_id: int, before: datetime, limit: int, now: datetime
) -> int:
    """Clear up to `limit` transcripts of the project's calls that started before `before`.

    The row stays (status `cleared`, no segments, no text), so the recording is not
    transcribed again while its audio is still kept.
    """
    calls = cast(Table, Call.__table__)
    with engine.begin() as connection:
        ids = (
            connection.execute(
                select(transcripts.c.id)
                .join(calls, calls.c.id == transcripts.c.call_id)
                .where(
                    calls.c.project_id == project_id,
                    calls.c.started_at < before,
                    transcripts.c.status != TranscriptStatus.CLEARED,
                    transcripts.c.status != TranscriptStatus.RUNNING,
                )
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if ids:
            connection.execute(
                update(transcripts)
                .where(transcripts.c.id.in_(ids))
                .values(
                    status=TranscriptStatus.CLEARED,
                    segments=[],
                    text=None,
                    error=None,
                    next_attempt_at=None,
                    claimed_until=None,
                    updated_at=now,
                )
            )
    return len(ids)


def transcript_contains(text: str) -> ColumnElement[bool] | None:
    """Calls whose transcript holds `text` (case-insensitive; None for an empty search)."""
    text = text.replace("\x00", "").strip()[:MAX_SEARCH_CHARS]
    if not text:
        return None
    said = select(CallTranscript.call_id).where(
        CallTranscript.status == TranscriptStatus.DONE,
        func.lower(CallTranscript.text).contains(text.lower(), autoescape=True),
    )
    return Call.id.in_(said)


def transcribed_calls(db: Session, call_ids: Sequence[int]) -> dict[int, str]:
    """The transcript status of each of these calls that has a transcript row."""
    if not call_ids:
        return {}
    rows = db.execute(
        select(CallTranscript.call_id, CallTranscript.status).where(
            CallTranscript.call_id.in_(call_ids)
        )
    ).all()
    return {row.call_id: row.status for row in rows}


@dataclass(frozen=True)
class QueueCounts:
    """How many transcripts stand where, for `ringtrail transcripts status` and the dashboard."""

    pending: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    last_error: str | None = None


def queue_counts(db: Session, project_id: int | None = None) -> QueueCounts:
    """Transcripts by status (of one project, or of every project)."""
    query = select(CallTranscript.status, func.count()).group_by(CallTranscript.status)
    failed = select(CallTranscript.error).where(CallTranscript.error.is_not(None))
    if project_id is not None:
        of_project = CallTranscript.call_id.in_(
            select(Call.id).where(Call.project_id == project_id)
        )
        query = query.where(of_project)
        failed = failed.where(of_project)
    counts: dict[str, int] = {str(status): int(n) for status, n in db.execute(query).all()}
    last_error = db.scalars(failed.order_by(CallTranscript.updated_at.desc()).limit(1)).first()
    return QueueCounts(
        pending=counts.get(TranscriptStatus.PENDING, 0),
        running=counts.get(TranscriptStatus.RUNNING, 0),
        done=counts.get(TranscriptStatus.DONE, 0),
        failed=counts.get(TranscriptStatus.FAILED, 0),
        last_error=last_error,
    )


# What runs after a transcript is stored, in order: the project's rules (automatic tags and
# target marks from the transcript) and then the classifier's label. Each is looked up when
# called, so this module works before either exists; a hook that fails is logged and never
# undoes the transcript.
AFTER_TRANSCRIPT_HOOKS: tuple[tuple[str, str], ...] = (
    ("ringtrail.services.quality_rules", "apply_quality_rules"),
    ("ringtrail.services.scoring", "score_call"),
)


def after_transcript(db: Session, call: Call, now: datetime) -> list[str]:
    """Run what depends on the call's new transcript; the names of the hooks that ran.

    Runs inside the caller's transaction (the caller commits). Each hook gets
    `(db, call, now)`; a missing module or function is skipped.
    """
    ran: list[str] = []
    for module_name, function_name in AFTER_TRANSCRIPT_HOOKS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        hook: Any = getattr(module, function_name, None)
        if hook is None:
            continue
        try:
            with db.begin_nested():
                hook(db, call, now)
        except Exception:
            log.exception("%s.%s failed for call %s", module_name, function_name, call.id)
            continue
        ran.append(f"{module_name}.{function_name}")
    return ran


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Rows the job may take: pending and due, or running with a claim that ran out."""
    return or_(
        and_(
            transcripts.c.status == TranscriptStatus.PENDING,
            transcripts.c.next_attempt_at <= now,
        ),
        and_(
            transcripts.c.status == TranscriptStatus.RUNNING,
            transcripts.c.claimed_until <= now,
        ),
    )


def clip_error(message: str) -> str:
    """An error as stored on the row."""
    return message[:MAX_ERROR_CHARS]
