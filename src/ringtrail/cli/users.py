"""`ringtrail user ...`: create dashboard users and give them a role in a project."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from ringtrail.cli.context import load_settings, transaction
from ringtrail.cli.errors import usage_error
from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.errors import NotFound
from ringtrail.storage.models import Project

app = typer.Typer(help="Manage dashboard users.", no_args_is_help=True)


def _project(db: Session, project_id: int) -> Project:
    project = db.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}")
    return project


def _ask_password() -> str:
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Sign-in e-mail; must be unused.")],
    name: Annotated[str, typer.Option(help="Full name shown in the dashboard.")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="RINGTRAIL_PASSWORD",
            show_envvar=True,
            help="Password (at least 8 characters); asked for when not given.",
        ),
    ] = None,
    superuser: Annotated[
        bool, typer.Option("--superuser", help="May open and manage every project.")
    ] = False,
    project: Annotated[
        int | None, typer.Option(metavar="ID", help="Project to add the user to.")
    ] = None,
    role: Annotated[
        Role | None, typer.Option(case_sensitive=False, help="Role in --project.")
    ] = None,
) -> None:
    """Create a user, optionally with a role in one project."""
    if (project is None) != (role is None):
        raise usage_error("--project and --role go together")
    settings = load_settings()  # a bad setting fails before anyone types a password
    secret = password if password is not None else _ask_password()
    with transaction(settings) as db:
        user = create_user(db, email, secret, name=name, is_superuser=superuser)
        if project is not None and role is not None:
            set_membership(db, user, _project(db, project), role)
    typer.echo(f"created user {user.id} <{user.email}>")
    if project is not None and role is not None:
        typer.echo(f"role {role.value} in project {project}")
