"""The transcription job: claim a due transcript, run the speech engine on the call's stored
recording, keep the progress on the row, store the result or the error and when to try again.

The queue is `call_transcripts` (services/transcripts.py). A pass first queues a transcript
for every stored recording without one. A claim is one conditional UPDATE, as for recording
fetches: a due row (`pending` and due, or `running` whose claim ran out) becomes `running`,
its attempt counted and its claim set; on PostgreSQL the row is picked with
`FOR UPDATE SKIP LOCKED`. Every later write names the claim (status and attempt count), so a
worker that lost its claim can never overwrite a newer result.

Failures and retries (`retry_at`): a model that is missing or does not load is the
operator's to fix, so the transcript waits and is tried again without limit (backoff up to
an hour), its error saying what to do; audio that cannot be decoded gets `AUDIO_ATTEMPTS`
tries; anything else `MAX_ATTEMPTS` with the backoff below. A failed transcript keeps its row
and error and is queued again by a retry (API, dashboard, `ringtrail transcripts retry`).
When the model is missing the pass stops after the first failure: the others would fail alike.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Table, and_, select, update

from ringtrail.jobs.claims import oldest_due_id
from ringtrail.recordings.policy import RecordingStatus, extension_for
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.services.transcripts import (
    TranscriptStatus,
    after_transcript,
    clip_error,
    due_condition,
    queue_missing,
    queue_newer_recordings,
)
from ringtrail.speech.engine import (
    AudioUnreadable,
    SpeechModelBroken,
    SpeechModelMissing,
    TranscriptionEngine,
)
from ringtrail.speech.factory import make_engine
from ringtrail.speech.stereo import transcribe_file
from ringtrail.storage.models import Call, CallTranscript, Recording
from ringtrail.storage.models.base import utcnow

log = logging.getLogger(__name__)

transcripts = cast(Table, CallTranscript.__table__)
recordings = cast(Table, Recording.__table__)
calls = cast(Table, Call.__table__)

BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
AUDIO_ATTEMPTS = 2
MODEL_BACKOFF_CAP = timedelta(hours=1)
# Longer than transcribing any call takes on a CPU; a worker that dies mid-way leaves the
# row to be taken again when its claim runs out.
CLAIM_TIMEOUT = timedelta(hours=2)
PROGRESS_STEP = 0.05
ABANDONED = "gave up: the last try never finished (the worker stopped while transcribing)"
NO_AUDIO = "the recording is no longer stored (deleted, or its retention period ran out)"


class FailureKind(StrEnum):
    """How a failed try counts towards giving up."""

    MODEL = "model"  # missing or broken speech model: retried until the operator fixes it
    AUDIO = "audio"  # the recording cannot be decoded
    GONE = "gone"  # the recording is no longer there: nothing to try again
    TRANSIENT = "transient"  # anything else


def retry_at(attempts: int, kind: FailureKind, now: datetime) -> datetime | None:
    """When to try again after `attempts` tries failed this way; None: give up."""
    if kind == FailureKind.GONE:
        return None
    if kind == FailureKind.MODEL:
        wait = BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts >= 1 else BACKOFF[0]
        return now + min(wait, MODEL_BACKOFF_CAP)
    limit = AUDIO_ATTEMPTS if kind == FailureKind.AUDIO else MAX_ATTEMPTS
    if attempts >= limit:
        return None
    return now + BACKOFF[max(attempts, 1) - 1]


class TranscribeOutcome(StrEnum):
    """What became of one claimed transcript."""

    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    LOST = "lost"  # the claim ran out, or a provider's transcript was imported meanwhile


@dataclass(frozen=True)
class Claim:
    """A transcript this worker may make until its claim runs out."""

    transcript_id: int
    call_id: int
    recording_id: int | None
    attempts: int


@dataclass(frozen=True)
class TranscriptionReport:
    """Counts of one transcription pass; `model_error` when the engine could not run."""

    queued: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    model_error: str | None = None

    @property
    def claimed(self) -> int:
        """How many transcripts the pass took."""
        return self.done + self.retried + self.failed + self.lost


def _due(now: datetime) -> Any:
    return and_(
        due_condition(now),
        # A claim that ran out on the last allowed try is given up (give_up_abandoned), not retried.
        (transcripts.c.status != TranscriptStatus.RUNNING)
        | (transcripts.c.attempts < MAX_ATTEMPTS),
    )


def claim_next(engine: Engine, now: datetime) -> Claim | None:
    """Claim the transcript due longest, or None when nothing is due. One short transaction."""
    claim = (
        update(transcripts)
        .where(transcripts.c.id == oldest_due_id(engine, transcripts, _due(now)), _due(now))
        .values(
            status=TranscriptStatus.RUNNING,
            attempts=transcripts.c.attempts + 1,
            claimed_until=now + CLAIM_TIMEOUT,
            progress=0.0,
            updated_at=now,
        )
        .returning(
            transcripts.c.id,
            transcripts.c.call_id,
            transcripts.c.recording_id,
            transcripts.c.attempts,
        )
    )
    with engine.begin() as connection:
        row = connection.execute(claim).first()
    if row is None:
        return None
    return Claim(row.id, row.call_id, row.recording_id, row.attempts)


def give_up_abandoned(engine: Engine, now: datetime) -> int:
    """Fail transcripts whose last allowed try was claimed and never finished."""
    with engine.begin() as connection:
        result = connection.execute(
            update(transcripts)
            .where(
                transcripts.c.status == TranscriptStatus.RUNNING,
                transcripts.c.claimed_until <= now,
                transcripts.c.attempts >= MAX_ATTEMPTS,
            )
            .values(
                status=TranscriptStatus.FAILED,
                next_attempt_at=None,
                claimed_until=None,
                error=ABANDONED,
                updated_at=now,
            )
        )
    return result.rowcount


def _still_mine(claim: Claim) -> Any:
    return and_(
        transcripts.c.id == claim.transcript_id,
        transcripts.c.status == TranscriptStatus.RUNNING,
        transcripts.c.attempts == claim.attempts,
    )


class _ProgressWriter:
    """Writes the share done onto the row in steps of PROGRESS_STEP while the claim holds."""

    def __init__(self, engine: Engine, claim: Claim, now: datetime) -> None:
        self.engine = engine
        self.claim = claim
        self.now = now
        self.written = 0.0

    def __call__(self, fraction: float) -> None:
        if fraction < 1.0 and fraction - self.written < PROGRESS_STEP:
            return
        self.written = fraction
        with self.engine.begin() as connection:
            connection.execute(
                update(transcripts)
                .where(_still_mine(self.claim))
                .values(progress=round(min(fraction, 1.0), 3))
            )


def _audio_of(engine: Engine, claim: Claim) -> tuple[Any, str | None] | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(recordings.c.storage_key, recordings.c.content_type, calls.c.provider)
            .join(calls, calls.c.id == recordings.c.call_id)
            .where(
                recordings.c.id == claim.recording_id,
                recordings.c.status == RecordingStatus.STORED,
                recordings.c.storage_key.is_not(None),
            )
        ).first()
    if row is None:
        return None
    return row, row.provider


def transcribe_claimed(
    runtime: Runtime,
    store: RecordingStore,
    speech: TranscriptionEngine,
    claim: Claim,
    now: datetime,
) -> TranscribeOutcome:
    """Transcribe one claimed recording and write the outcome onto its transcript row."""
    engine = runtime.engine
    found = _audio_of(engine, claim) if claim.recording_id is not None else None
    if found is None:
        return _record_failure(engine, claim, NO_AUDIO, FailureKind.GONE, now)
    row, provider = found
    language = runtime.settings.speech_language or None
    try:
        state = speech.state()
        if not state.ready:
            raise SpeechModelMissing(state.detail)
        suffix = extension_for(row.content_type or "") or ".audio"
        with tempfile.TemporaryDirectory(prefix="ringtrail-speech-") as folder:
            path = Path(folder) / f"recording{suffix}"
            with path.open("wb") as handle:
                for chunk in store.open(row.storage_key):
                    handle.write(chunk)
            transcript = transcribe_file(
                speech,
                path,
                provider=provider,
                language=language,
                progress=_ProgressWriter(engine, claim, now),
            )
    except (SpeechModelMissing, SpeechModelBroken) as exc:
        return _record_failure(engine, claim, str(exc), FailureKind.MODEL, now)
    except AudioUnreadable as exc:
        return _record_failure(engine, claim, str(exc), FailureKind.AUDIO, now)
    except Exception as exc:  # a bug or an odd file must not stop the worker
        log.exception("transcribing call %s failed unexpectedly", claim.call_id)
        message = f"{type(exc).__name__}: {exc}"
        return _record_failure(engine, claim, message, FailureKind.TRANSIENT, now)
    with runtime.sessions() as db:
        result = db.execute(
            update(transcripts)
            .where(_still_mine(claim))
            .values(
                status=TranscriptStatus.DONE,
                progress=1.0,
                next_attempt_at=None,
                claimed_until=None,
                error=None,
                engine=speech.name,
                model=speech.model_name,
                language=transcript.language,
                segments=[segment.as_json() for segment in transcript.segments],
                text=transcript.text,
                updated_at=now,
            )
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            db.rollback()
            log.warning("call %s: transcript claim ran out before it was stored", claim.call_id)
            return TranscribeOutcome.LOST
        call = db.get(Call, claim.call_id)
        if call is not None:
            after_transcript(db, call, now)
        db.commit()
    return TranscribeOutcome.DONE


def _record_failure(
    engine: Engine, claim: Claim, message: str, kind: FailureKind, now: datetime
) -> TranscribeOutcome:
    again = retry_at(claim.attempts, kind, now)
    status = TranscriptStatus.PENDING if again is not None else TranscriptStatus.FAILED
    with engine.begin() as connection:
        result = connection.execute(
            update(transcripts)
            .where(_still_mine(claim))
            .values(
                status=status,
                next_attempt_at=again,
                claimed_until=None,
                error=clip_error(message),
                updated_at=now,
            )
        )
    if result.rowcount != 1:
        return TranscribeOutcome.LOST
    log.info("call %s: transcription try %d failed: %s", claim.call_id, claim.attempts, message)
    return TranscribeOutcome.RETRY if again is not None else TranscribeOutcome.FAILED


def transcribe_due(
    runtime: Runtime,
    now: datetime,
    *,
    store: RecordingStore,
    speech: TranscriptionEngine | None = None,
    limit: int = 2,
) -> TranscriptionReport:
    """Queue what is missing, then transcribe up to `limit` due recordings, one at a time.

    Does nothing when transcription is switched off (RINGTRAIL_SPEECH_ENGINE=none) and no
    engine is given.
    """
    speech = speech or make_engine(runtime.settings)
    if speech is None:
        return TranscriptionReport()
    engine = runtime.engine
    queued = queue_missing(engine, now) + queue_newer_recordings(engine, now)
    give_up_abandoned(engine, now)
    counts = dict.fromkeys(TranscribeOutcome, 0)
    model_error: str | None = None
    for _ in range(limit):
        claim = claim_next(engine, now)
        if claim is None:
            break
        outcome = transcribe_claimed(runtime, store, speech, claim, now)
        counts[outcome] += 1
        if outcome == TranscribeOutcome.RETRY and not speech.state().ready:
            model_error = speech.state().detail
            break
    return TranscriptionReport(
        queued=queued,
        done=counts[TranscribeOutcome.DONE],
        retried=counts[TranscribeOutcome.RETRY],
        failed=counts[TranscribeOutcome.FAILED],
        lost=counts[TranscribeOutcome.LOST],
        model_error=model_error,
    )


def transcribe_now(runtime: Runtime, store: RecordingStore, limit: int) -> TranscriptionReport:
    """One pass as of the clock (for `ringtrail transcripts run`)."""
    return transcribe_due(runtime, utcnow(), store=store, limit=limit)
