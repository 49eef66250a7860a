"""`ringtrail project ...`: create, list and set up a tracked site; print its tracking script."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select

from ringtrail.cli.context import load_settings, transaction
from ringtrail.cli.errors import usage_error
from ringtrail.cli.lookup import print_table
from ringtrail.cli.serve import display_url
from ringtrail.services.accounts import get_or_create_organization
from ringtrail.services.errors import NotFound
from ringtrail.services.projects import (
    create_project,
    get_project,
    tracking_tag,
    update_project,
)
from ringtrail.services.webhook_secrets import (
    DEFAULT_GRACE_HOURS,
    MAX_GRACE_HOURS,
    rotate_webhook_secret,
    show_webhook_secret,
    webhook_path,
)
from ringtrail.storage.models import Organization, Project, User

app = typer.Typer(help="Manage projects (tracked businesses or sites).", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Project name, e.g. the business or site.")],
    organization: Annotated[
        str, typer.Option(help="Organisation name; created when it does not exist yet.")
    ],
    owner_email: Annotated[str, typer.Option(help="E-mail of an existing user to own it.")],
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone for reports, e.g. Europe/Kyiv.")
    ] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 currency, e.g. UAH.")] = None,
    country: Annotated[
        str | None, typer.Option(help="Default country for phone numbers, e.g. UA.")
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option(help="Allowed site domain; repeat for several.")
    ] = None,
    main_number: Annotated[
        str | None, typer.Option(help="The number the site shows without tracking.")
    ] = None,
) -> None:
    """Create a project owned by an existing user."""
    fields: dict[str, Any] = {
        key: value
        for key, value in {
            "timezone": timezone,
            "currency": currency,
            "default_country": country,
            "main_number": main_number,
        }.items()
        if value is not None
    }
    if domain:
        fields["allowed_domains"] = domain
    settings = load_settings()
    with transaction(settings) as db:
        owner = db.scalar(select(User).where(User.email == owner_email.strip().lower()))
        if owner is None:
            raise NotFound(
                f"no user with e-mail {owner_email}; create it with `ringtrail user create`"
            )
        org = get_or_create_organization(db, organization)
        limit = settings.max_projects_per_organization
        project = create_project(db, org, name, owner=owner, max_projects=limit, **fields)
    base_url = (settings.public_url or display_url(settings.host, settings.port)).rstrip("/")
    typer.echo(f"created project {project.id} ({project.name}) in {org.name}")
    typer.echo(f"public key: {project.public_key}")
    typer.echo("tracking script, for every page of the site:")
    typer.echo(f"  {tracking_tag(base_url, project.public_key)}")


@app.command("webhook-secret")
def webhook_secret(
    project: Annotated[int, typer.Argument(help="Id of the project.")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Make a new secret; the old one stays accepted.")
    ] = False,
    grace_hours: Annotated[
        int,
        typer.Option(
            min=0, max=MAX_GRACE_HOURS, help="With --rotate: hours the old secret still works."
        ),
    ] = DEFAULT_GRACE_HOURS,
) -> None:
    """Print the secret that signs the project's generic webhook, or rotate it."""
    settings = load_settings()
    now = datetime.now(UTC)
    with transaction(settings) as db:
        found = get_project(db, project)
        if rotate:
            state = rotate_webhook_secret(db, found, now, grace_hours)
        else:
            state = show_webhook_secret(db, found, now)
        path = webhook_path(found)
    base_url = (settings.public_url or display_url(settings.host, settings.port)).rstrip("/")
    typer.echo(f"webhook URL: {base_url}{path}")
    typer.echo(f"secret: {state.secret}")
    if state.previous_valid_until is not None:
        until = state.previous_valid_until.isoformat(timespec="seconds")
        typer.echo(f"the previous secret is accepted until {until}")


@app.command("list")
def list_projects() -> None:
    """List every project with its organisation and public key."""
    with transaction() as db:
        rows = [
            (str(p.id), p.name, org_name, p.public_key, ", ".join(p.allowed_domains) or "-")
            for p, org_name in db.execute(
                select(Project, Organization.name)
                .join(Organization, Organization.id == Project.organization_id)
                .order_by(Project.id)
            )
        ]
    if not rows:
        typer.echo("no projects yet; create one with `ringtrail project create`")
        return
    print_table(("ID", "NAME", "ORGANISATION", "PUBLIC KEY", "DOMAINS"), rows)


def _tracking_changes(
    allowed_domain: list[str] | None,
    main_number: str | None,
    replace_number: list[str] | None,
    swap_selector: list[str] | None,
    clear: list[str] | None,
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in clear or []:
        if field not in CLEARABLE:
            raise usage_error(f"--clear takes one of {', '.join(CLEARABLE)}, not {field!r}")
        changes[CLEARABLE[field]] = None if field == "main-number" else []
    given = {
        "allowed_domains": allowed_domain,
        "main_number": main_number,
        "replace_numbers": replace_number,
        "swap_selectors": swap_selector,
    }
    for key, value in given.items():
        if value is not None:
            if key in changes:
                raise usage_error(f"{key.replace('_', ' ')} is both given and cleared")
            changes[key] = value
    return changes


CLEARABLE = {
    "allowed-domains": "allowed_domains",
    "main-number": "main_number",
    "replace-numbers": "replace_numbers",
    "swap-selectors": "swap_selectors",
}


@app.command("set")
def set_tracking(
    project: Annotated[int, typer.Argument(metavar="PROJECT", help="Id of the project.")],
    allowed_domain: Annotated[
        list[str] | None,
        typer.Option(help="A host name the script may run on; repeat: the list is replaced."),
    ] = None,
    main_number: Annotated[
        str | None, typer.Option(help="The number the site shows without tracking.")
    ] = None,
    replace_number: Annotated[
        list[str] | None,
        typer.Option(help="Another number the site shows, swapped too; repeat: list replaced."),
    ] = None,
    swap_selector: Annotated[
        list[str] | None,
        typer.Option(help="CSS selector of elements showing the number; repeat: list replaced."),
    ] = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SETTING",
            help="Empty a setting: allowed-domains, main-number, replace-numbers, swap-selectors.",
        ),
    ] = None,
    number_allocation: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="When a visitor takes a pool number: visit (at the visit's start) or intent "
            "(when a phone number is in view or touched).",
        ),
    ] = None,
) -> None:
    """Change a project's tracking settings, then print them all."""
    changes = _tracking_changes(allowed_domain, main_number, replace_number, swap_selector, clear)
    if number_allocation is not None:
        changes["number_allocation"] = number_allocation
    with transaction() as db:
        found = get_project(db, project)
        if changes:
            update_project(db, found, changes)
        shown = {
            "allowed domains": ", ".join(found.allowed_domains) or "-",
            "main number": found.main_number or "-",
            "replace numbers": ", ".join(found.replace_numbers) or "-",
            "swap selectors": ", ".join(found.swap_selectors) or "-",
            "number allocation": found.number_allocation,
        }
    typer.echo(f"project {project}{' changed' if changes else ''}:")
    for label, value in shown.items():
        typer.echo(f"  {label}: {value}")
