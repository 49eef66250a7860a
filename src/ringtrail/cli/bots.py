"""`ringtrail project bots`: show or change a project's bot allow-list, deny-list and signals."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtrail.cli.context import transaction
from ringtrail.cli.lookup import find_project
from ringtrail.domain.bot_policy import BotPolicy
from ringtrail.services.bot_settings import change_bot_settings, read_bot_settings

ENTRY = "an address or network (203.0.113.7, 198.51.100.0/24) or User-Agent text"


def bots(
    project: Annotated[int, typer.Argument(metavar="PROJECT", help="Id of the project.")],
    allow: Annotated[
        list[str] | None,
        typer.Option(help=f"Never a bot: {ENTRY}; repeat: the list is replaced."),
    ] = None,
    deny: Annotated[
        list[str] | None,
        typer.Option(help=f"Always a bot (wins): {ENTRY}; repeat: the list is replaced."),
    ] = None,
    clear_allow: Annotated[bool, typer.Option(help="Empty the allow-list.")] = False,
    clear_deny: Annotated[bool, typer.Option(help="Empty the deny-list.")] = False,
    behaviour: Annotated[
        bool | None,
        typer.Option(
            "--behaviour/--no-behaviour",
            help="Behaviour signals: no storage, no heartbeat, a busy address.",
        ),
    ] = None,
    data_centres: Annotated[
        bool | None,
        typer.Option(
            "--data-centres/--no-data-centres",
            help="Visits from major cloud providers' ranges count as bots.",
        ),
    ] = None,
) -> None:
    """Show the project's bot settings; with options, change them first (audited)."""
    with transaction() as db:
        found = find_project(db, project)
        changing = any(v is not None for v in (allow, deny, behaviour, data_centres)) or (
            clear_allow or clear_deny
        )
        if changing:
            policy = change_bot_settings(
                db,
                found,
                allow=[] if clear_allow else allow,
                deny=[] if clear_deny else deny,
                behaviour=behaviour,
                data_centres=data_centres,
            )
        else:
            policy = read_bot_settings(found)
    _show(project, policy, changing)


def _show(project: int, policy: BotPolicy, changed: bool) -> None:
    typer.echo(f"project {project} bots{' changed' if changed else ''}:")
    typer.echo(f"  allow: {', '.join(e.text for e in policy.allow) or '-'}")
    typer.echo(f"  deny: {', '.join(e.text for e in policy.deny) or '-'}")
    typer.echo(f"  behaviour signals: {'on' if policy.behaviour else 'off'}")
    typer.echo(f"  data centres are bots: {'yes' if policy.data_centres else 'no'}")
