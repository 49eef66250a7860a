"""`ringtrail number ...`: add, list, change and remove a project's tracking numbers.

Numbers are written in any common form and stored as E.164, read with the project's default
country. A static number stands for one source; a pool number (`--pool`) is shown to one
visitor at a time. The same service functions as the API do the work, audit rows included.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ringtrail.cli.context import transaction
from ringtrail.cli.lookup import ProjectOption, find_number, find_pool, find_project, print_table
from ringtrail.services.tracking import add_number, change_number, list_numbers, remove_number
from ringtrail.storage.models import TrackingNumber

app = typer.Typer(help="Manage tracking numbers.", no_args_is_help=True)

NumberArg = Annotated[
    str, typer.Argument(metavar="NUMBER", help="The number (any written form) or its id.")
]
PoolOption = Annotated[
    str | None,
    typer.Option("--pool", metavar="POOL", help="Pool id or name: the number joins that pool."),
]
LabelOption = Annotated[str | None, typer.Option(help="A note shown beside the number.")]
SourceOption = Annotated[str | None, typer.Option(help="Static numbers: the source it stands for.")]
MediumOption = Annotated[str | None, typer.Option(help="Static numbers: its medium, e.g. cpc.")]
CampaignOption = Annotated[str | None, typer.Option(help="Static numbers: its campaign.")]
ForwardOption = Annotated[
    str | None, typer.Option("--forward-to", help="Where the provider forwards its calls.")
]


def describe(number: TrackingNumber) -> str:
    """One line naming the number and what it is."""
    kind = f"pool {number.pool_id}" if number.kind == "pool" else "static"
    default = ", the pool's default" if number.is_pool_default else ""
    state = "" if number.is_active else ", switched off"
    return f"number {number.id} {number.e164} ({kind}{default}{state})"


def _labels(source: str | None, medium: str | None, campaign: str | None) -> dict[str, Any]:
    given = {"source": source, "medium": medium, "campaign": campaign}
    return {key: value for key, value in given.items() if value is not None}


@app.command("add")
def add(
    project: ProjectOption,
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The number, any written form.")],
    pool: PoolOption = None,
    default: Annotated[
        bool, typer.Option("--default", help="With --pool: shown while the others are held.")
    ] = False,
    label: LabelOption = None,
    source: SourceOption = None,
    medium: MediumOption = None,
    campaign: CampaignOption = None,
    offline_only: Annotated[
        bool, typer.Option("--offline-only", help="Static numbers: print ads, never on the site.")
    ] = False,
    forward_to: ForwardOption = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Add it switched off.")] = False,
) -> None:
    """Start tracking a number: static, or in a pool with --pool."""
    with transaction() as db:
        found = find_project(db, project)
        values: dict[str, Any] = {
            "number": number,
            "kind": "static",
            "label": label or "",
            "offline_only": offline_only,
            "is_active": not inactive,
            "forward_to": forward_to,
            **_labels(source, medium, campaign),
        }
        if pool is not None:
            values.update(kind="pool", pool_id=find_pool(db, found, pool).id)
        if default:
            values["is_pool_default"] = True
        added = add_number(db, found, values)
        line = describe(added)
    typer.echo(f"added {line}")


@app.command("list")
def list_(
    project: ProjectOption,
    pool: Annotated[
        str | None, typer.Option("--pool", metavar="POOL", help="Only this pool's numbers.")
    ] = None,
    static: Annotated[bool, typer.Option("--static", help="Only static numbers.")] = False,
) -> None:
    """List a project's numbers, oldest first."""
    with transaction() as db:
        found = find_project(db, project)
        pool_id = find_pool(db, found, pool).id if pool is not None else None
        numbers = list_numbers(db, found, kind="static" if static else None, pool_id=pool_id)
        rows = [
            (
                str(n.id),
                n.e164,
                "static"
                if n.kind == "static"
                else f"pool {n.pool_id}" + (" (default)" if n.is_pool_default else ""),
                " / ".join(x for x in (n.source, n.medium, n.campaign) if x) or "-",
                "on" if n.is_active else "off",
                n.label or "-",
            )
            for n in numbers
        ]
    if not rows:
        typer.echo(
            f"project {project} has no tracking numbers; add one with `ringtrail number add`"
        )
        return
    print_table(("ID", "NUMBER", "KIND", "SOURCE", "STATE", "LABEL"), rows)


def _change(project: int, ref: str, changes: dict[str, Any]) -> str:
    with transaction() as db:
        found = find_project(db, project)
        number = find_number(db, found, ref)
        return describe(change_number(db, found, number, changes))


@app.command("set")
def set_(
    project: ProjectOption,
    number: NumberArg,
    new_number: Annotated[
        str | None, typer.Option("--number", help="Replace the number itself.")
    ] = None,
    pool: PoolOption = None,
    static: Annotated[
        bool, typer.Option("--static", help="Take it out of its pool; it stands for one source.")
    ] = False,
    default: Annotated[
        bool | None,
        typer.Option("--default/--not-default", help="Whether it is its pool's default."),
    ] = None,
    label: LabelOption = None,
    source: SourceOption = None,
    medium: MediumOption = None,
    campaign: CampaignOption = None,
    offline_only: Annotated[
        bool | None,
        typer.Option("--offline-only/--online", help="Static numbers: never shown on the site."),
    ] = None,
    forward_to: ForwardOption = None,
) -> None:
    """Change a number; only the options given change (an empty text clears a label)."""
    changes: dict[str, Any] = _labels(source, medium, campaign)
    for key, value in {
        "number": new_number,
        "is_pool_default": default,
        "label": label,
        "offline_only": offline_only,
        "forward_to": forward_to,
    }.items():
        if value is not None:
            changes[key] = value
    if static:
        changes["kind"] = "static"
    with transaction() as db:
        found = find_project(db, project)
        target = find_number(db, found, number)
        if pool is not None:
            changes.update(kind="pool", pool_id=find_pool(db, found, pool).id)
        line = describe(change_number(db, found, target, changes))
    typer.echo(f"changed {line}")


@app.command("label")
def label_(
    project: ProjectOption,
    number: NumberArg,
    text: Annotated[str, typer.Argument(metavar="LABEL", help="The note; empty to clear it.")],
) -> None:
    """Set a number's label."""
    typer.echo(f"labelled {_change(project, number, {'label': text})}")


@app.command("activate")
def activate(project: ProjectOption, number: NumberArg) -> None:
    """Switch a number on: it is shown and its calls are attributed again."""
    typer.echo(f"switched on {_change(project, number, {'is_active': True})}")


@app.command("deactivate")
def deactivate(project: ProjectOption, number: NumberArg) -> None:
    """Switch a number off without forgetting it: it is no longer shown on the site."""
    typer.echo(f"switched off {_change(project, number, {'is_active': False})}")


@app.command("remove")
def remove(project: ProjectOption, number: NumberArg) -> None:
    """Stop tracking a number; its past calls keep the dialled number."""
    with transaction() as db:
        found = find_project(db, project)
        target = find_number(db, found, number)
        line = describe(target)
        remove_number(db, found, target.id)
    typer.echo(f"removed {line}")
