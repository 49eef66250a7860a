# ruff: noqa: RUF001 (Russian text)
"""`ringtrail transcripts status|run|retry|import|show` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World
from tests.recordings.rows import add_call, add_recording

SAID = {
    "language": "ru",
    "segments": [{"speaker": "caller", "start": 0.5, "end": 2, "text": "Здравствуйте"}],
}


def test_status_says_the_model_is_missing_and_what_to_read(
    backend_invoke: Invoke, world: World, tmp_path: Path
) -> None:
    result = backend_invoke(
        "transcripts",
        "status",
        RINGTRAIL_SPEECH_MODEL=str(tmp_path / "no-model"),
    )

    assert result.exit_code == 0, result.output
    assert "not ready: speech model" in result.output
    assert "is not installed: see docs/lead-quality.md" in result.output
    assert "transcripts: 0 done, 0 waiting" in result.output


def test_import_show_and_retry(
    backend_invoke: Invoke, world: World, db: Session, tmp_path: Path
) -> None:
    project = str(world.ours.project.id)
    call = add_call(db, world.ours.project)
    db.commit()
    source = tmp_path / "said.json"
    source.write_text(json.dumps(SAID), encoding="utf-8")

    imported = backend_invoke(
        "transcripts", "import", str(call.id), "--project", project, str(source)
    )
    again = backend_invoke("transcripts", "import", str(call.id), "--project", project, str(source))
    shown = backend_invoke("transcripts", "show", str(call.id), "--project", project)
    retried = backend_invoke("transcripts", "retry", str(call.id), "--project", project)

    assert "transcript imported, 1 segments" in imported.output
    assert "nothing changed" in again.output
    assert "0:00\tcaller\tЗдравствуйте" in shown.output
    assert "imported from a provider" in assert_one_error_line(retried, 1)


def test_a_file_that_is_not_a_transcript_is_a_usage_error(
    backend_invoke: Invoke, world: World, db: Session, tmp_path: Path
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    source = tmp_path / "bad.json"
    source.write_text('{"text": "no segments"}', encoding="utf-8")

    result = backend_invoke(
        "transcripts", "import", str(call.id), "--project", str(world.ours.project.id), str(source)
    )

    assert "not a transcript" in assert_one_error_line(result, 2)


def test_run_records_the_missing_model_on_the_call(
    backend_invoke: Invoke, world: World, db: Session, tmp_path: Path
) -> None:
    call = add_call(db, world.ours.project)
    add_recording(db, call, status="stored", storage_key="p/c/r.wav", next_attempt_at=None)
    db.commit()
    model = str(tmp_path / "no-model")

    ran = backend_invoke("transcripts", "run", RINGTRAIL_SPEECH_MODEL=model)
    shown = backend_invoke(
        "transcripts", "show", str(call.id), "--project", str(world.ours.project.id)
    )
    off = backend_invoke("transcripts", "run", RINGTRAIL_SPEECH_ENGINE="none")

    assert "queued 1, transcribed 0, to retry 1" in ran.output
    assert "stopped: speech model" in ran.output
    assert "status: pending" in shown.output and "is not installed" in shown.output
    assert "switched off" in off.output
