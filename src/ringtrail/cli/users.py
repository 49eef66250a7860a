"""`ringtrail user ...`: create dashboard users, give them a role, reset or sign them out."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.cli.context import load_settings, transaction
from ringtrail.cli.errors import usage_error
from ringtrail.domain.roles import Role
from ringtrail.services.accounts import (
    MIN_PASSWORD_LENGTH,
    change_password,
    create_user,
    set_membership,
)
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.user_sessions import revoke_user_sessions
from ringtrail.storage.models import Project, User

app = typer.Typer(help="Manage dashboard users.", no_args_is_help=True)


def _project(db: Session, project_id: int) -> Project:
    project = db.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}")
    return project


def _user(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with e-mail {email.strip().lower()}")
    return user


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


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Option(help="The user's sign-in e-mail.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="RINGTRAIL_PASSWORD",
            show_envvar=True,
            help="New password (at least 8 characters); asked for when not given.",
        ),
    ] = None,
) -> None:
    """Set a user's password and sign them out everywhere."""
    settings = load_settings()
    secret = password if password is not None else _ask_password()
    if len(secret) < MIN_PASSWORD_LENGTH:  # before touching the database
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    with transaction(settings) as db:
        user = _user(db, email)
        ended = change_password(db, user, secret)
    typer.echo(f"password changed for <{user.email}>; {ended} session(s) signed out")


@app.command("sign-out")
def sign_out(
    email: Annotated[str, typer.Option(help="The user's sign-in e-mail.")],
) -> None:
    """End every dashboard session of a user (a lost laptop, a copied cookie)."""
    with transaction() as db:
        user = _user(db, email)
        ended = revoke_user_sessions(db, user.id)
    typer.echo(f"<{user.email}>: {ended} session(s) signed out")
