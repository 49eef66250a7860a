"""`ringtrail transcripts ...`: the speech engine's state, a transcription pass now, another
try for a call, a provider's transcript imported from a JSON file, and a call's transcript."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ringtrail.cli.context import load_settings, open_runtime, transaction
from ringtrail.cli.errors import usage_error
from ringtrail.jobs.transcription import transcribe_due
from ringtrail.recordings.factory import make_store
from ringtrail.services.projects import get_project
from ringtrail.services.transcripts import (
    ImportedTranscript,
    get_transcript,
    import_transcript,
    queue_counts,
    retry_transcript,
)
from ringtrail.speech.engine import Segment
from ringtrail.speech.factory import engine_state
from ringtrail.storage.models.base import utcnow

app = typer.Typer(help="Transcripts of call recordings (speech to text).", no_args_is_help=True)

ProjectOption = Annotated[int, typer.Option("--project", help="Id of the call's project.")]
CallArgument = Annotated[int, typer.Argument(help="Id of the call.")]


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


@app.command("status")
def status(
    project: Annotated[
        int | None, typer.Option("--project", help="Count one project's transcripts only.")
    ] = None,
    load: Annotated[
        bool, typer.Option("--load/--no-load", help="Load the model to be sure it works.")
    ] = True,
) -> None:
    """Whether this server can transcribe (the model found and loaded, or why not) and how
    many transcripts wait, run, are done and failed."""
    settings = load_settings()
    state = engine_state(settings, load=load)
    with transaction(settings) as db:
        counts = queue_counts(db, get_project(db, project).id if project is not None else None)
    word = "ready" if state.ready else "not ready"
    typer.echo(f"speech engine: {state.engine}, model {state.model}: {word}: {state.detail}")
    typer.echo(
        f"transcripts: {counts.done} done, {counts.pending} waiting, {counts.running} running,"
        f" {counts.failed} failed"
    )
    if counts.last_error:
        typer.echo(f"last error: {counts.last_error}")


@app.command("run")
def run(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 10,
) -> None:
    """Transcribe the recordings due now, in this process (the worker does this by itself)."""
    settings = load_settings()
    if settings.speech_engine == "none":
        typer.echo("nothing done: transcription is switched off (RINGTRAIL_SPEECH_ENGINE=none)")
        return
    with open_runtime(settings) as runtime:
        report = transcribe_due(runtime, utcnow(), store=make_store(settings), limit=limit)
    typer.echo(
        f"queued {report.queued}, transcribed {report.done}, to retry {report.retried},"
        f" failed {report.failed}"
    )
    if report.model_error:
        typer.echo(f"stopped: {report.model_error}")
    elif report.claimed == 0:
        typer.echo("nothing was due")


@app.command("retry")
def retry(call_id: CallArgument, project: ProjectOption) -> None:
    """Transcribe the call's stored recording again at the next pass (after a failure)."""
    with transaction() as db:
        view = retry_transcript(db, get_project(db, project), call_id, utcnow())
    typer.echo(f"call {call_id}: transcript {view.status}, due now")


def _read_import(source: str) -> ImportedTranscript:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        data: Any = json.loads(text)
        segments = tuple(
            Segment(
                str(item.get("speaker") or ""),
                float(item["start"]),
                float(item["end"]),
                str(item["text"]),
            )
            for item in data["segments"]
        )
        return ImportedTranscript(
            segments, data.get("language"), str(data.get("provider") or "provider")
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise usage_error(
            f"{source}: not a transcript: JSON with segments of speaker, start, end, text"
            f" ({type(exc).__name__}: {exc})"
        ) from exc


@app.command("import")
def import_(
    call_id: CallArgument,
    project: ProjectOption,
    source: Annotated[
        str, typer.Argument(help="A JSON file as the API's PUT takes it, or - for stdin.")
    ],
) -> None:
    """Store a transcript a provider made for the call (replaces any; the same one twice
    changes nothing)."""
    value = _read_import(source)
    with transaction() as db:
        view, changed = import_transcript(db, get_project(db, project), call_id, value, utcnow())
    if changed:
        typer.echo(f"call {call_id}: transcript imported, {len(view.segments)} segments")
    else:
        typer.echo(f"call {call_id}: the same transcript was already stored; nothing changed")


@app.command("show")
def show(call_id: CallArgument, project: ProjectOption) -> None:
    """Print the call's transcript: status, then one line per segment."""
    with transaction() as db:
        view = get_transcript(db, get_project(db, project), call_id)
    typer.echo(
        f"status: {view.status} ({view.source}, {view.engine or '-'}, {view.language or '-'})"
    )
    if view.error:
        typer.echo(f"error: {view.error}")
    for segment in view.segments:
        typer.echo(f"{_clock(segment.start)}\t{segment.speaker or '-'}\t{segment.text}")
