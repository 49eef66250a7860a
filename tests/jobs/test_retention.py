"""The retention job on SQLite and PostgreSQL: old audio goes, the row stays as history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ringtrail.jobs.retention import delete_expired_recordings
from ringtrail.jobs.runner import run_due_jobs
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.storage import LocalRecordingStore, RecordingStore, StoreUnavailable
from ringtrail.runtime import Runtime
from ringtrail.storage.models import Project, Recording
from tests.recordings.audio_server import AudioServer, Reply
from tests.recordings.rows import AUDIO, T0, add_call, add_recording, reload

RETENTION = timedelta(days=30)


@pytest.fixture
def store(runtime: Runtime) -> RecordingStore:
    return make_store(runtime.settings)


def stored(
    db: Session, store: RecordingStore, project: Project, started_days_ago: int
) -> Recording:
    """A fetched recording of a call that started `started_days_ago` days before T0."""
    call = add_call(db, project, started_at=T0 - timedelta(days=started_days_ago))
    recording = add_recording(
        db,
        call,
        status="stored",
        attempts=1,
        next_attempt_at=None,
        delete_after=call.started_at + RETENTION,
        content_type="audio/mpeg",
        size_bytes=len(AUDIO),
        fetched_at=call.started_at,
    )
    recording.storage_key = f"p{project.id}/c{call.id}/r{recording.id}-1.mp3"
    store.put(recording.storage_key, AUDIO, "audio/mpeg")
    db.commit()
    return recording


def test_audio_past_retention_is_deleted_and_the_row_kept(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore
) -> None:
    old = stored(db, store, project, started_days_ago=31)
    young = stored(db, store, project, started_days_ago=29)
    old_key, young_key = old.storage_key, young.storage_key
    assert old_key is not None and young_key is not None

    assert run_due_jobs(runtime, T0).deleted == 1

    gone = reload(db, old)
    assert (gone.status, gone.storage_key) == ("deleted", None)
    assert (gone.size_bytes, gone.duration_seconds, gone.content_type) == (
        len(AUDIO),
        60,
        "audio/mpeg",
    )
    assert not store.exists(old_key)
    assert reload(db, young).status == "stored" and store.get(young_key) == AUDIO


def test_the_deadline_itself_is_when_audio_goes(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore
) -> None:
    recording = stored(db, store, project, started_days_ago=30)
    assert recording.delete_after == T0
    assert delete_expired_recordings(runtime.engine, store, T0 - timedelta(seconds=1)) == 0
    assert delete_expired_recordings(runtime.engine, store, T0) == 1


def test_running_retention_again_changes_nothing(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore
) -> None:
    stored(db, store, project, started_days_ago=40)
    assert delete_expired_recordings(runtime.engine, store, T0) == 1
    assert delete_expired_recordings(runtime.engine, store, T0) == 0
    assert isinstance(store, LocalRecordingStore)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_a_recording_queued_past_retention_is_never_fetched(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    call = add_call(db, project, started_at=T0 - timedelta(days=60))
    recording = add_recording(
        db,
        call,
        provider_url=audio_server.script("/late", Reply(body=AUDIO)),
        delete_after=call.started_at + RETENTION,
    )
    db.commit()
    report = run_due_jobs(runtime, T0)
    assert (report.deleted, report.fetch.claimed) == (1, 0)
    assert reload(db, recording).status == "deleted"
    assert audio_server.hits("/late") == 0


class DownStore(LocalRecordingStore):
    """A store whose deletes fail, like an unreachable bucket."""

    def delete(self, key: str) -> None:
        raise StoreUnavailable("S3 delete: connection refused")


def test_when_the_store_is_down_the_row_waits_for_the_next_pass(
    runtime: Runtime, db: Session, project: Project, store: RecordingStore
) -> None:
    recording = stored(db, store, project, started_days_ago=90)
    assert isinstance(store, LocalRecordingStore)
    assert delete_expired_recordings(runtime.engine, DownStore(store.root), T0) == 0
    assert reload(db, recording).status == "stored"
    assert delete_expired_recordings(runtime.engine, store, T0) == 1
