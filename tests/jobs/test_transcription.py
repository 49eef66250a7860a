"""The transcription job on SQLite and PostgreSQL: the real engine on the tiny model, progress,
a missing model retried without losing the transcript, audio that cannot be read, claims that
run out, and the hook that runs after a transcript is stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.jobs import transcription
from ringtrail.jobs.runner import run_due_jobs
from ringtrail.jobs.transcription import (
    ABANDONED,
    BACKOFF,
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    FailureKind,
    TranscribeOutcome,
    claim_next,
    retry_at,
    transcribe_claimed,
    transcribe_due,
)
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.services import transcripts as transcript_service
from ringtrail.services.transcripts import ImportedTranscript, import_transcript, retry_transcript
from ringtrail.speech.engine import Segment
from ringtrail.speech.faster_whisper_engine import FasterWhisperEngine, SpeechConfig
from ringtrail.storage.models import Call, CallTranscript, Project, Recording
from tests.recordings.rows import T0, add_call, add_recording
from tests.speech.audio_files import tone, write_wav
from tests.speech.conftest import tiny_config, tiny_model  # noqa: F401 (the fixture)

SECOND = timedelta(seconds=1)


@pytest.fixture
def store(runtime: Runtime) -> RecordingStore:
    return make_store(runtime.settings)


@pytest.fixture
def engine(tiny_model: Path) -> FasterWhisperEngine:  # noqa: F811
    return FasterWhisperEngine(tiny_config(tiny_model))


@pytest.fixture
def no_model(tmp_path: Path) -> FasterWhisperEngine:
    return FasterWhisperEngine(
        SpeechConfig(model="small", models_dir=tmp_path / "models", hub_cache=tmp_path / "hub")
    )


def stored_call(
    db: Session, store: RecordingStore, project: Project, audio: bytes, *, provider: str = "sip"
) -> tuple[Call, Recording]:
    call = add_call(db, project, provider=provider)
    key = f"p{project.id}/c{call.id}/r.wav"
    store.put(key, audio, "audio/wav")
    recording = add_recording(
        db, call, status="stored", storage_key=key, content_type="audio/wav", next_attempt_at=None
    )
    db.commit()
    return call, recording


def queued_call(
    db: Session, store: RecordingStore, project: Project, tmp_path: Path
) -> tuple[Call, Recording]:
    """A stored one-second tone whose transcript is queued at T0 (not yet committed)."""
    call, recording = stored_call(db, store, project, wav_bytes(tmp_path, tone(1.0, 440)))
    transcript_service.queue_transcript(db, call.id, recording.id, T0)
    return call, recording


def wav_bytes(tmp_path: Path, *channels: object) -> bytes:
    return write_wav(tmp_path / "call.wav", *channels).read_bytes()  # type: ignore[arg-type]


def transcript(db: Session, call: Call) -> CallTranscript:
    db.expire_all()
    row = db.scalars(select(CallTranscript).where(CallTranscript.call_id == call.id)).one()
    return row


def test_the_job_transcribes_a_stored_stereo_recording_with_the_real_engine(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audio = wav_bytes(tmp_path, tone(2.0, 440), tone(2.0, 220, seed=3))
    call, recording = stored_call(db, store, project, audio, provider="twilio")
    progress: list[float] = []
    write_progress = transcription._ProgressWriter.__call__

    def noting(self: transcription._ProgressWriter, fraction: float) -> None:
        progress.append(fraction)
        write_progress(self, fraction)

    monkeypatch.setattr(transcription._ProgressWriter, "__call__", noting)

    report = transcribe_due(runtime, T0, store=store, speech=engine)

    assert (report.queued, report.done, report.claimed) == (1, 1, 1)
    row = transcript(db, call)
    assert (row.status, row.progress, row.attempts, row.error) == ("done", 1.0, 1, None)
    assert (row.recording_id, row.source, row.engine) == (recording.id, "local", "faster-whisper")
    assert row.model == engine.model_name and row.language is not None
    assert {s["speaker"] for s in row.segments} <= {"caller", "business"}
    assert row.text == "\n".join(s["text"] for s in row.segments)
    assert progress and progress[-1] == 1.0
    assert transcribe_due(runtime, T0 + SECOND, store=store, speech=engine).claimed == 0


def test_a_missing_model_keeps_the_transcript_with_its_error_and_retries_until_it_is_installed(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
    no_model: FasterWhisperEngine,
    tmp_path: Path,
) -> None:
    call, _ = stored_call(db, store, project, wav_bytes(tmp_path, tone(1.0, 440)))
    other, _ = stored_call(db, store, project, wav_bytes(tmp_path, tone(1.0, 330)))

    report = transcribe_due(runtime, T0, store=store, speech=no_model)

    assert (report.queued, report.retried, report.claimed) == (2, 1, 1)  # stops at the first
    assert report.model_error is not None and "is not installed" in report.model_error
    first = transcript(db, call)
    assert first.status == "pending" and first.attempts == 1
    assert first.error is not None
    assert first.error.startswith("speech model 'small' is not installed: see docs/")
    assert first.next_attempt_at == T0 + BACKOFF[0]

    first.attempts = MAX_ATTEMPTS + 1  # more tries than any other failure gets
    db.commit()
    now = T0 + timedelta(hours=1)
    transcribe_due(runtime, now, store=store, speech=no_model)  # the other call's turn
    transcribe_due(runtime, now, store=store, speech=no_model)
    assert transcript(db, call).status == "pending"
    assert transcript(db, call).attempts == MAX_ATTEMPTS + 2
    assert transcript(db, call).next_attempt_at == now + timedelta(hours=1)

    now += timedelta(hours=1)
    done = transcribe_due(runtime, now, store=store, speech=engine)

    assert done.done == 2
    assert (transcript(db, call).status, transcript(db, call).error) == ("done", None)
    assert transcript(db, other).status == "done"


def test_audio_that_cannot_be_decoded_fails_after_two_tries_and_a_retry_queues_it_again(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
) -> None:
    call, _ = stored_call(db, store, project, b"RIFF not really a wave file" * 20)

    transcribe_due(runtime, T0, store=store, speech=engine)
    assert transcript(db, call).status == "pending"
    transcribe_due(runtime, T0 + BACKOFF[0], store=store, speech=engine)

    failed = transcript(db, call)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 2, None)
    assert failed.error is not None and "could not be" in failed.error

    again = retry_transcript(db, project, call.id, T0 + timedelta(hours=1))

    assert (again.status, again.attempts, again.error) == ("pending", 0, None)


def test_a_recording_deleted_before_its_turn_fails_with_the_reason(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
    tmp_path: Path,
) -> None:
    call, recording = queued_call(db, store, project, tmp_path)
    recording.status = "deleted"
    recording.storage_key = None
    db.commit()

    transcribe_due(runtime, T0, store=store, speech=engine)

    row = transcript(db, call)
    assert (row.status, row.error) == ("failed", transcription.NO_AUDIO)


def test_a_claim_that_runs_out_is_taken_again_and_the_slow_worker_changes_nothing(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
    tmp_path: Path,
) -> None:
    call, _ = queued_call(db, store, project, tmp_path)
    db.commit()
    slow = claim_next(runtime.engine, T0)
    assert slow is not None
    assert claim_next(runtime.engine, T0 + CLAIM_TIMEOUT - SECOND) is None

    fast = claim_next(runtime.engine, T0 + CLAIM_TIMEOUT)
    assert fast is not None and fast.attempts == 2
    assert transcribe_claimed(runtime, store, engine, fast, T0 + CLAIM_TIMEOUT) == "done"
    late = transcribe_claimed(runtime, store, engine, slow, T0 + CLAIM_TIMEOUT)

    assert late == TranscribeOutcome.LOST
    assert transcript(db, call).attempts == 2


def test_a_claim_abandoned_on_the_last_try_is_given_up_with_the_reason(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore, tmp_path: Path
) -> None:
    call, _ = queued_call(db, store, project, tmp_path)
    db.commit()
    row = transcript(db, call)
    row.attempts = MAX_ATTEMPTS - 1
    db.commit()
    assert claim_next(runtime.engine, T0) is not None  # the last try, never finished

    transcription.give_up_abandoned(runtime.engine, T0 + CLAIM_TIMEOUT)

    assert (transcript(db, call).status, transcript(db, call).error) == ("failed", ABANDONED)


def test_a_provider_transcript_imported_meanwhile_wins_over_the_running_job(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
    tmp_path: Path,
) -> None:
    call, _ = queued_call(db, store, project, tmp_path)
    db.commit()
    claim = claim_next(runtime.engine, T0)
    assert claim is not None
    imported = ImportedTranscript((Segment("caller", 0.0, 1.0, "Need a quote"),), "en", "binotel")
    import_transcript(db, project, call.id, imported, T0)

    assert transcribe_claimed(runtime, store, engine, claim, T0) == TranscribeOutcome.LOST
    row = transcript(db, call)
    assert (row.source, row.text, row.engine) == ("provider", "Need a quote", "provider:binotel")
    assert transcribe_due(runtime, T0 + SECOND, store=store, speech=engine).queued == 0


def test_after_transcript_runs_the_hooks_once_the_transcript_is_stored(
    runtime: Runtime,
    db: Session,
    project: Project,
    store: RecordingStore,
    engine: FasterWhisperEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, str, datetime]] = []

    def rules(hook_db: Session, call: Call, now: datetime) -> None:
        row = hook_db.scalars(select(CallTranscript).where(CallTranscript.call_id == call.id)).one()
        seen.append((call.id, row.status, now))

    def broken(hook_db: Session, call: Call, now: datetime) -> None:
        raise RuntimeError("a broken classifier must not undo the transcript")

    monkeypatch.setattr(transcription, "after_transcript", transcript_service.after_transcript)
    monkeypatch.setattr(
        transcript_service,
        "AFTER_TRANSCRIPT_HOOKS",
        ((__name__, "_broken_hook"), (__name__, "_rules_hook")),
    )
    monkeypatch.setattr(f"{__name__}._broken_hook", broken, raising=False)
    monkeypatch.setattr(f"{__name__}._rules_hook", rules, raising=False)
    call, _ = stored_call(db, store, project, wav_bytes(tmp_path, tone(1.0, 440)))

    transcribe_due(runtime, T0, store=store, speech=engine)

    assert seen == [(call.id, "done", T0)]
    assert transcript(db, call).status == "done"


def test_run_due_jobs_queues_a_stored_recording_and_shows_why_it_waits(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore, tmp_path: Path
) -> None:
    runtime.settings.speech_model = str(tmp_path / "no-such-model")
    call, _ = stored_call(db, store, project, wav_bytes(tmp_path, tone(1.0, 440)))

    report = run_due_jobs(runtime, T0, store=store)

    assert (report.transcription.queued, report.transcription.retried) == (1, 1)
    assert not report.busy
    row = transcript(db, call)
    assert row.status == "pending" and row.error is not None
    assert row.error.startswith(f"speech model '{tmp_path / 'no-such-model'}' is not installed")


def test_switched_off_transcription_queues_nothing(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore, tmp_path: Path
) -> None:
    runtime.settings.speech_engine = "none"
    stored_call(db, store, project, wav_bytes(tmp_path, tone(1.0, 440)))

    assert run_due_jobs(runtime, T0, store=store).transcription.queued == 0
    assert db.scalars(select(CallTranscript)).all() == []


@pytest.mark.parametrize(
    ("attempts", "kind", "wait"),
    [
        (1, FailureKind.TRANSIENT, BACKOFF[0]),
        (5, FailureKind.TRANSIENT, BACKOFF[4]),
        (MAX_ATTEMPTS, FailureKind.TRANSIENT, None),
        (1, FailureKind.AUDIO, BACKOFF[0]),
        (2, FailureKind.AUDIO, None),
        (1, FailureKind.GONE, None),
        (1, FailureKind.MODEL, BACKOFF[0]),
        (4, FailureKind.MODEL, timedelta(hours=1)),
        (100, FailureKind.MODEL, timedelta(hours=1)),
    ],
)
def test_the_retry_schedule(attempts: int, kind: FailureKind, wait: timedelta | None) -> None:
    expected = None if wait is None else T0 + wait
    assert retry_at(attempts, kind, T0) == expected
