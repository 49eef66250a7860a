"""What every command needs: settings read fresh, a runtime, a checked schema, a unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pydantic
from sqlalchemy.orm import Session

from ringtrail.cli.errors import CliError, settings_error
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.audit import Actor, act_as
from ringtrail.settings import Settings
from ringtrail.storage import migrate
from ringtrail.storage.db import ping, unit_of_work
from ringtrail.storage.reencrypt import reencrypt_secrets

NOT_MIGRATED = (
    "the database schema is not at this version's newest migration; run `ringtrail migrate`"
)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file, with `overrides` on top; one-line errors."""
    try:
        return Settings(**overrides)
    except pydantic.ValidationError as exc:
        raise settings_error(exc) from exc


def prepare_schema(runtime: Runtime) -> None:
    """Make sure the schema is current before a command touches data.

    On the embedded default with `auto_migrate` the migrations are applied here; anywhere
    else (PostgreSQL) a stale schema is refused, so stateless processes never race to migrate.
    Provider secrets still stored in plaintext (written before they were encrypted) are then
    encrypted with this process's key.
    """
    ping(runtime.engine)
    if not migrate.is_up_to_date(runtime.engine):
        settings = runtime.settings
        if not (settings.is_embedded and settings.auto_migrate):
            raise CliError(NOT_MIGRATED)
        migrate.upgrade(settings.sqlalchemy_url)
    reencrypt_secrets(runtime.engine, plaintext_only=True)


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime on a database whose schema is ready; closed when the block ends."""
    runtime = bootstrap(settings)
    try:
        prepare_schema(runtime)
        yield runtime
    finally:
        runtime.close()


@contextmanager
def transaction(settings: Settings | None = None) -> Iterator[Session]:
    """One unit of work on the configured database: commits on success, rolls back on error."""
    with (
        open_runtime(settings or load_settings()) as runtime,
        unit_of_work(runtime.sessions) as session,
    ):
        act_as(session, Actor("cli"))
        yield session
