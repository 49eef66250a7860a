"""The `ringtrail` command: wires every command group into one Typer app with guarded errors."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtrail import __version__
from ringtrail.cli import (
    apikeys,
    callbacks,
    calls,
    conversion_files,
    integrations,
    numbers,
    pools,
    privacy,
    projects,
    quality_rules,
    reports,
    rules,
    scoring,
    secrets,
    transcripts,
    users,
)
from ringtrail.cli.bots import bots as project_bots
from ringtrail.cli.demo import demo
from ringtrail.cli.errors import GuardedGroup
from ringtrail.cli.forms import forms as project_forms
from ringtrail.cli.forms import leads as project_leads
from ringtrail.cli.install_check import check as project_check
from ringtrail.cli.migrate import migrate
from ringtrail.cli.refusals import refusals as project_refusals
from ringtrail.cli.serve import serve
from ringtrail.cli.simulate import simulate
from ringtrail.cli.sip_events import sip_events
from ringtrail.cli.worker import worker

app = typer.Typer(
    name="ringtrail",
    cls=GuardedGroup,
    help="Ringtrail: self-hostable call tracking and marketing analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ringtrail {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Ringtrail: self-hostable call tracking and marketing analytics."""


app.command()(serve)
app.command()(migrate)
app.command()(demo)
app.add_typer(users.app, name="user")
projects.app.command("check")(project_check)
projects.app.command("refusals")(project_refusals)
projects.app.command("forms")(project_forms)
projects.app.command("leads")(project_leads)
projects.app.command("bots")(project_bots)
app.add_typer(projects.app, name="project")
app.add_typer(numbers.app, name="number")
app.add_typer(pools.app, name="pool")
app.add_typer(rules.app, name="rule")
app.add_typer(quality_rules.app, name="quality")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(reports.app, name="reports")
app.add_typer(secrets.app, name="secrets")
app.add_typer(privacy.app, name="privacy")
app.add_typer(conversion_files.app, name="conversions")
app.add_typer(calls.app, name="calls")
app.add_typer(callbacks.app, name="callbacks")
app.add_typer(integrations.app, name="integrations")
app.add_typer(scoring.app, name="scoring")
app.add_typer(transcripts.app, name="transcripts")
app.command(name="sip-events")(sip_events)
app.command()(worker)
app.command()(simulate)


def main() -> None:
    """Console-script entrypoint; exits with the command's code."""
    app(prog_name="ringtrail")


if __name__ == "__main__":
    main()
