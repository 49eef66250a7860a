# ruff: noqa: RUF001 (Ukrainian text)
"""Call transcripts as use cases: queueing for stored recordings (once, and again for a newer
recording), provider imports (checked, deduplicated, never replaced by the local engine),
retries, search in the calls log and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.calls import CallFilters, list_calls
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.services.transcripts import (
    ImportedTranscript,
    clear_old_call_transcripts,
    get_transcript,
    import_transcript,
    queue_counts,
    queue_missing,
    queue_newer_recordings,
    retry_transcript,
)
from ringtrail.speech.engine import Segment
from ringtrail.storage.models import Call, CallTranscript, Recording
from tests.conftest import World
from tests.recordings.rows import T0, add_call, add_recording

HELLO = (
    Segment("business", 1.5, 3.0, "Доброго дня, автосалон"),
    Segment("caller", 0.0, 1.2, "Скільки коштує ТО для Škoda Octavia?"),
)


def stored(db: Session, call: Call, key: str = "k.mp3") -> Recording:
    recording = add_recording(db, call, status="stored", storage_key=key, next_attempt_at=None)
    db.commit()
    return recording


def rows(db: Session) -> list[CallTranscript]:
    db.expire_all()
    return list(db.scalars(select(CallTranscript).order_by(CallTranscript.call_id)))


def test_every_stored_recording_is_queued_once(runtime: Runtime, db: Session, world: World) -> None:
    project = world.ours.project
    first, second = add_call(db, project), add_call(db, project)
    waiting = add_call(db, project)
    add_recording(db, waiting)  # pending fetch: nothing to transcribe yet
    recording = stored(db, first)
    stored(db, second)

    assert queue_missing(runtime.engine, T0) == 2
    assert queue_missing(runtime.engine, T0) == 0
    queued = rows(db)
    assert [(r.call_id, r.status, r.next_attempt_at) for r in queued] == [
        (first.id, "pending", T0),
        (second.id, "pending", T0),
    ]
    assert queued[0].recording_id == recording.id


def test_a_newer_recording_of_the_call_is_transcribed_again(
    runtime: Runtime, db: Session, world: World
) -> None:
    call = add_call(db, world.ours.project)
    stored(db, call, "old.mp3")
    queue_missing(runtime.engine, T0)
    row = rows(db)[0]
    row.status, row.text, row.attempts = "done", "old words", 1
    db.commit()
    newer = stored(db, call, "new.mp3")

    assert queue_newer_recordings(runtime.engine, T0 + timedelta(hours=1)) == 1

    again = rows(db)[0]
    assert (again.recording_id, again.status, again.attempts) == (newer.id, "pending", 0)


def test_a_provider_transcript_is_checked_ordered_and_imported_once(
    db: Session, world: World
) -> None:
    project = world.ours.project
    call = add_call(db, project)
    db.commit()
    value = ImportedTranscript(HELLO, "uk", "binotel")

    view, changed = import_transcript(db, project, call.id, value, T0)
    again, changed_again = import_transcript(db, project, call.id, value, T0 + timedelta(hours=1))

    assert changed and not changed_again
    assert [s.speaker for s in view.segments] == ["caller", "business"]
    assert view.text == "Скільки коштує ТО для Škoda Octavia?\nДоброго дня, автосалон"
    assert (view.status, view.source, view.engine, view.language) == (
        "done",
        "provider",
        "provider:binotel",
        "uk",
    )
    assert again.updated_at == T0
    assert len(rows(db)) == 1


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (ImportedTranscript(()), "segments"),
        (ImportedTranscript((Segment("caller", 2.0, 1.0, "backwards"),)), "segments[0]"),
        (ImportedTranscript((Segment("caller", 0.0, 1.0, "  "),)), "segments[0]"),
        (ImportedTranscript(HELLO, "ukrainian"), "language"),
        (ImportedTranscript(HELLO, None, "bad/name"), "provider"),
    ],
)
def test_a_bad_import_is_refused_with_the_reason(
    db: Session, world: World, value: ImportedTranscript, field: str
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()

    with pytest.raises(InvalidInput) as refused:
        import_transcript(db, world.ours.project, call.id, value, T0)

    assert refused.value.field == field
    assert rows(db) == []


def test_another_projects_call_is_not_found(db: Session, world: World) -> None:
    theirs = add_call(db, world.outsider.project)
    db.commit()

    with pytest.raises(NotFound):
        import_transcript(db, world.ours.project, theirs.id, ImportedTranscript(HELLO), T0)
    with pytest.raises(NotFound):
        get_transcript(db, world.ours.project, theirs.id)


def test_a_provider_transcript_is_never_queued_for_the_local_engine(
    runtime: Runtime, db: Session, world: World
) -> None:
    project = world.ours.project
    call = add_call(db, project)
    stored(db, call)
    import_transcript(db, project, call.id, ImportedTranscript(HELLO), T0)

    assert queue_missing(runtime.engine, T0) == 0
    assert queue_newer_recordings(runtime.engine, T0) == 0
    with pytest.raises(Conflict, match="imported from a provider"):
        retry_transcript(db, project, call.id, T0)


def test_retry_needs_a_stored_recording_and_queues_it(db: Session, world: World) -> None:
    project = world.ours.project
    call = add_call(db, project)
    db.commit()
    with pytest.raises(NotFound, match="no stored recording"):
        retry_transcript(db, project, call.id, T0)
    recording = stored(db, call)

    view = retry_transcript(db, project, call.id, T0)

    assert (view.status, view.recording_id, view.next_attempt_at) == ("pending", recording.id, T0)
    assert queue_counts(db, project.id).pending == 1
    assert queue_counts(db, world.outsider.project.id).pending == 0


def test_the_calls_log_finds_calls_by_what_was_said(db: Session, world: World) -> None:
    project = world.ours.project
    octavia, other = add_call(db, project), add_call(db, project)
    db.commit()
    import_transcript(db, project, octavia.id, ImportedTranscript(HELLO), T0)
    said = (Segment("caller", 0, 1, "wrong number"),)
    import_transcript(db, project, other.id, ImportedTranscript(said), T0)

    def found(text: str) -> list[int]:
        page = list_calls(db, project, CallFilters(transcript=text))
        return [summary.id for summary in page.items]

    assert found("octavia") == [octavia.id]
    assert found("ОКТАВІЯ") == []  # a different word, not a spelling of the same
    assert found("Wrong") == [other.id]
    assert found("100%_") == []
    assert sorted(found("  ")) == sorted([octavia.id, other.id])


def test_retention_clears_the_text_and_keeps_the_row(
    runtime: Runtime, db: Session, world: World
) -> None:
    project = world.ours.project
    call = add_call(db, project)
    stored(db, call)
    import_transcript(db, project, call.id, ImportedTranscript(HELLO), T0)

    cleared = clear_old_call_transcripts(runtime.engine, project.id, T0 + timedelta(days=1), 10, T0)

    row = rows(db)[0]
    assert cleared == 1
    assert (row.status, row.text, row.segments) == ("cleared", None, [])
    assert queue_missing(runtime.engine, T0) == 0  # not transcribed again from the audio
