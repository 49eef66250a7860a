"""`ringtrail privacy ...`: retention periods, erasing a caller's data, reading the audit log."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import select

from ringtrail.cli.context import load_settings, transaction
from ringtrail.recordings.factory import make_store
from ringtrail.services.audit import MAX_PAGE, list_entries
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.privacy import (
    ErasureReport,
    digest_salt,
    erase_caller,
    erase_caller_in_organization,
)
from ringtrail.services.projects import get_project, update_project
from ringtrail.storage.models import Organization

app = typer.Typer(
    help="Privacy: retention periods, erasing a caller's data, the audit log.",
    no_args_is_help=True,
)
FOREVER = "forever"
_RETENTION_HELP = "Days to keep {}, or 'forever'."


def _days(raw: str | None, field: str) -> int | None:
    if raw is None or raw.strip().lower() in (FOREVER, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(field, "a whole number of days, or 'forever'") from None


@app.command("retention")
def retention(
    project: Annotated[int, typer.Option("--project", help="Id of the project.")],
    visits: Annotated[str | None, typer.Option(help=_RETENTION_HELP.format("visits"))] = None,
    calls: Annotated[str | None, typer.Option(help=_RETENTION_HELP.format("calls"))] = None,
    transcripts: Annotated[
        str | None, typer.Option(help=_RETENTION_HELP.format("transcripts"))
    ] = None,
    recordings: Annotated[
        str | None, typer.Option(help=_RETENTION_HELP.format("recordings"))
    ] = None,
) -> None:
    """Show a project's retention periods, or change those given."""
    given = {
        "visit_retention_days": visits,
        "call_retention_days": calls,
        "transcript_retention_days": transcripts,
        "recording_retention_days": recordings,
    }
    changes = {field: _days(raw, field) for field, raw in given.items() if raw is not None}
    with transaction(load_settings()) as db:
        found = get_project(db, project)
        if changes:
            update_project(db, found, changes)
        for field in given:
            days = getattr(found, field)
            typer.echo(f"{field}: {FOREVER if days is None else days}")


def _print(report: ErasureReport) -> None:
    if report.nothing_left:
        typer.echo(f"project {report.project_id}: nothing of this caller was left")
        return
    removed = ", ".join(f"{count} {table}" for table, count in sorted(report.removed.items()))
    typer.echo(f"project {report.project_id}: removed {removed}")


@app.command("erase")
def erase(
    phone: Annotated[str, typer.Option(help="The caller's number, in any written form.")],
    project: Annotated[
        int | None, typer.Option("--project", help="Id of the project to erase it from.")
    ] = None,
    organization: Annotated[
        str | None,
        typer.Option(help="Organisation slug: erase it from every one of its projects."),
    ] = None,
) -> None:
    """Erase one caller's data (calls, recordings, leads, deals, deliveries, visits); logged."""
    if (project is None) == (organization is None):
        raise InvalidInput("project", "give either --project or --organization")
    settings = load_settings()
    salt = digest_salt(settings.resolved_secret_key())
    store = make_store(settings)
    with transaction(settings) as db:
        if project is not None:
            reports = [erase_caller(db, store, get_project(db, project), phone, salt=salt)]
        else:
            found = db.scalar(select(Organization).where(Organization.slug == organization))
            if found is None:
                raise NotFound(f"no organisation with slug {organization}")
            reports = erase_caller_in_organization(db, store, found.id, phone, salt=salt)
    for report in reports:
        _print(report)


@app.command("audit")
def audit(
    project: Annotated[int, typer.Option("--project", help="Id of the project.")],
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Entries to show.")] = 50,
    before: Annotated[
        int | None, typer.Option(min=1, help="Show entries older than this id.")
    ] = None,
) -> None:
    """Print a project's audit log, newest first, one JSON object a line."""
    with transaction(load_settings()) as db:
        get_project(db, project)
        page = list_entries(db, project_id=project, before=before, limit=limit)
        for entry in page.items:
            line: dict[str, Any] = {
                "id": entry.id,
                "at": entry.created_at.isoformat(),
                "actor": f"{entry.actor_kind}:{entry.actor_id or ''}".rstrip(":"),
                "action": entry.action,
                "object": f"{entry.object_type}:{entry.object_id or ''}".rstrip(":"),
                "changes": entry.changes,
            }
            typer.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
