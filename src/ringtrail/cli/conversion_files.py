"""`ringtrail conversions export`: a destination's import file (Google Ads click conversions
or Yandex Metrica calls) for the days asked, for accounts that upload by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ringtrail.cli.context import load_settings, open_runtime
from ringtrail.services.conversion_files import build_conversion_file, day_range
from ringtrail.services.projects import get_project

app = typer.Typer(help="Conversion files for hand upload to ad platforms.", no_args_is_help=True)


@app.command("export")
def export(
    project: Annotated[int, typer.Option("--project", help="Id of the project.")],
    destination: Annotated[
        int,
        typer.Option("--destination", help="Id of its Google Ads or Yandex Metrica destination."),
    ],
    start: Annotated[
        str | None,
        typer.Option("--from", help="First day, YYYY-MM-DD, in the project's time zone."),
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the file here (default: standard output)."),
    ] = None,
) -> None:
    """Write the import file of these days (the last week by default); on standard error, how
    many conversions it holds and why the other calls are left out."""
    settings = load_settings()
    with open_runtime(settings) as runtime, runtime.sessions() as db:
        found = get_project(db, project)
        now = datetime.now(UTC)
        first, last = day_range(found, start, end, now)
        made = build_conversion_file(db, found, destination, first, last, now)
    # Bytes, so the template's CRLF line ends reach the file unchanged on every platform.
    if output is None:
        typer.echo(made.content.encode("utf-8"), nl=False)
    else:
        output.write_bytes(made.content.encode("utf-8"))
        typer.echo(f"wrote {output}", err=True)
    typer.echo(made.summary(), err=True)
