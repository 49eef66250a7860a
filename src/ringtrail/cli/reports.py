"""`ringtrail reports ...`: maintenance of the report rollups."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtrail.cli.context import load_settings, open_runtime
from ringtrail.services.projects import get_project
from ringtrail.services.reports.rollups import rebuild_project

app = typer.Typer(help="Maintain the report rollups.", no_args_is_help=True)


@app.command("rebuild")
def rebuild(
    project: Annotated[int, typer.Option("--project", help="Id of the project to rebuild.")],
) -> None:
    """Rebuild every report rollup of a project from its calls, leads and visits."""
    # A maintenance run over a project's whole history: no per-statement time limit.
    settings = load_settings(database_statement_timeout_seconds=0)
    with open_runtime(settings) as runtime, runtime.sessions() as db:
        get_project(db, project)
        rebuild_project(db, project)
    typer.echo(f"rebuilt the report rollups of project {project}")
