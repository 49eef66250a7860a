"""`ringtrail project check`: fetch a page of a project's site and say whether tracking is set up.

The findings are the dashboard's installation check (`services/install_check.py`), in English,
one a line, each marked `ok` or `problem`; the exit code is 1 when any line is a problem.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ringtrail.cli.context import load_settings, transaction
from ringtrail.cli.errors import RUNTIME_ERROR
from ringtrail.cli.lookup import find_project
from ringtrail.cli.serve import display_url
from ringtrail.services.install_check import check_installation, findings


def check(
    project: Annotated[int, typer.Argument(metavar="PROJECT", help="Id of the project.")],
    url: Annotated[
        str | None,
        typer.Option(help="The page to check (default: the first allowed domain's home page)."),
    ] = None,
) -> None:
    """Check a site's installation: the tag, its key and server, the domain and the numbers."""
    settings = load_settings()
    with transaction(settings) as db:
        found = find_project(db, project)
        server = (settings.public_url or display_url(settings.host, settings.port)).rstrip("/")
        report = check_installation(found, server, url)
    lines = findings(report)
    typer.echo(f"checking {report.url or '(no page)'} for project {project}")
    for line in lines:
        typer.echo(f"  {'ok' if line.ok else 'problem'}: {line.english()}")
    if not all(line.ok for line in lines):
        raise typer.Exit(RUNTIME_ERROR)
