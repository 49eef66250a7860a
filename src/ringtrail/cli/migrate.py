"""`ringtrail migrate`: bring the database schema up to a revision, or back down to one."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtrail.cli.context import load_settings
from ringtrail.runtime import bootstrap
from ringtrail.storage import migrate as migrations
from ringtrail.storage.db import ping


def migrate(
    revision: Annotated[
        str, typer.Option(help="Revision to upgrade to (`head` is the newest).")
    ] = "head",
    downgrade: Annotated[
        str | None,
        typer.Option(
            metavar="REVISION",
            help="Revert to this revision instead (`base` removes every table).",
        ),
    ] = None,
) -> None:
    """Apply the database migrations (run once per release, before starting new processes)."""
    settings = load_settings()
    runtime = bootstrap(settings)
    try:
        ping(runtime.engine)
        if downgrade is not None:
            migrations.downgrade(settings.sqlalchemy_url, downgrade)
            typer.echo(f"database downgraded to {downgrade}")
            return
        migrations.upgrade(settings.sqlalchemy_url, revision)
        typer.echo(f"database upgraded to {revision}")
    finally:
        runtime.close()
