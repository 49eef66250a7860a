"""`ringtrail project ...`: create a tracked site and print how to install its tracking script."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select

from ringtrail.cli.context import load_settings, transaction
from ringtrail.cli.serve import display_url
from ringtrail.services.accounts import get_or_create_organization
from ringtrail.services.errors import NotFound
from ringtrail.services.projects import create_project, tracking_tag
from ringtrail.storage.models import User

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
