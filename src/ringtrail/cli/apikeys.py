"""`ringtrail apikey ...`: issue, list and revoke API keys for /api/v1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.cli.context import load_settings, transaction
from ringtrail.domain.roles import Role
from ringtrail.services.accounts import issue_api_key, revoke_api_key, slugify
from ringtrail.services.errors import NotFound
from ringtrail.storage.models import ApiKey, Organization, Project

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


def _organization(db: Session, name: str) -> Organization:
    organization = db.scalar(select(Organization).where(Organization.slug == slugify(name)))
    if organization is None:
        raise NotFound(f"no organisation named {name!r}")
    return organization


@app.command("create")
def create(
    organization: Annotated[str, typer.Option(help="Name of the organisation the key is for.")],
    role: Annotated[Role, typer.Option(case_sensitive=False, help="What the key may do.")],
    name: Annotated[str, typer.Option(help="A label saying who or what uses the key.")],
    project: Annotated[
        int | None,
        typer.Option(metavar="ID", help="Limit the key to this project (default: every one)."),
    ] = None,
) -> None:
    """Issue a key; its secret is printed once and never stored."""
    settings = load_settings()
    with transaction(settings) as db:
        org = _organization(db, organization)
        scope = db.get(Project, project) if project is not None else None
        if project is not None and scope is None:
            raise NotFound(f"no project with id {project}")
        issued = issue_api_key(
            db, org, name, role, project=scope, max_keys=settings.max_api_keys_per_organization
        )
    reach = f"project {project}" if project is not None else f"every project of {org.name}"
    typer.echo(f"created API key {issued.key.id} ({role.value}, {reach})", err=True)
    typer.echo("the secret is shown only now; keep it safe:", err=True)
    typer.echo(issued.secret)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


@app.command("list")
def list_keys(
    organization: Annotated[
        str | None, typer.Option(help="Only the keys of this organisation.")
    ] = None,
) -> None:
    """List keys (never their secrets), revoked ones included."""
    with transaction() as db:
        query = (
            select(ApiKey, Organization.name)
            .join(Organization, Organization.id == ApiKey.organization_id)
            .order_by(ApiKey.id)
        )
        if organization is not None:
            query = query.where(ApiKey.organization_id == _organization(db, organization).id)
        rows = list(db.execute(query))
    header = ("ID", "PREFIX", "ORGANISATION", "PROJECT", "ROLE", "NAME", "LAST USED", "STATE")
    lines = [header]
    for key, org_name in rows:
        lines.append(
            (
                str(key.id),
                f"rt_{key.prefix}",
                org_name,
                str(key.project_id) if key.project_id is not None else "all",
                key.role,
                key.name,
                _when(key.last_used_at),
                f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


@app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(metavar="ID", help="The key's id.")]) -> None:
    """Revoke a key at once; it stays listed for the audit trail."""
    with transaction() as db:
        key = db.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"no API key with id {key_id}")
        revoke_api_key(db, key.id, key.organization_id, datetime.now(UTC))
    typer.echo(f"revoked API key {key_id}")
