"""`ringtrail calls ...`: calls no project claimed, and giving one to a project."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from ringtrail.cli.context import load_settings, open_runtime, transaction
from ringtrail.services.audit import Actor, act_as
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.projects import get_project
from ringtrail.services.unmatched_calls import MAX_LISTED, assign_call, list_unmatched
from ringtrail.storage.db import unit_of_work

app = typer.Typer(help="Calls no project claimed (unmatched calls).", no_args_is_help=True)


@app.command("unmatched")
def unmatched(
    limit: Annotated[int, typer.Option(min=1, max=MAX_LISTED, help="How many, newest first.")] = 50,
) -> None:
    """List calls to numbers nobody tracks that no SIP trunk claimed."""
    with transaction(load_settings()) as db:
        found = list_unmatched(db, limit)
    if not found:
        typer.echo("no unmatched calls")
        return
    for call in found:
        typer.echo(
            f"{call.id}\t{call.started_at.isoformat(timespec='seconds')}\t{call.provider}\t"
            f"to {call.dialled or '-'}\tfrom {call.caller or '-'}\t{call.status}\t"
            f"trunk {call.source or '-'}"
        )


@app.command("assign")
def assign(
    call_id: Annotated[int, typer.Argument(help="Id of an unmatched call.")],
    project: Annotated[int, typer.Option("--project", help="Id of the project to give it to.")],
) -> None:
    """Give an unmatched call to a project and attribute it there."""
    with open_runtime(load_settings()) as runtime, unit_of_work(runtime.sessions) as db:
        act_as(db, Actor("cli"))
        target = get_project(db, project)
        claimed = assign_call(
            db, CallIngestion(runtime.sessions), call_id, target, datetime.now(UTC)
        )
    typer.echo(f"call {call_id} now belongs to project {claimed}")
