"""CLI error handling: every failure becomes one `error: ...` line on stderr and an exit code.

Exit codes: 0 success, 1 a runtime error (database down, duplicate, not found, port taken),
2 a usage error (bad option, invalid value or setting), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import pydantic
import typer
from alembic.util.exc import CommandError
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from typer.core import TyperGroup

from ringtrail.services.errors import InvalidInput, ServiceError
from ringtrail.settings import ConfigFileError, SecretKeyError
from ringtrail.storage.db import DatabaseUnavailable

RUNTIME_ERROR = 1
USAGE_ERROR = 2
INTERRUPTED = 130


class CliError(Exception):
    """A failure to report as one line; `exit_code` is 1 (runtime) or 2 (usage)."""

    def __init__(self, message: str, *, exit_code: int = RUNTIME_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    """A CliError for a wrong or missing command-line value (exit code 2)."""
    return CliError(message, exit_code=USAGE_ERROR)


def settings_error(exc: pydantic.ValidationError) -> CliError:
    """One line naming each invalid RINGTRAIL_* setting and why it is refused."""
    parts = []
    for problem in exc.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper() or "settings"
        reason = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"RINGTRAIL_{name}: {reason}")
    return usage_error("invalid setting " + "; ".join(parts))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe(exc: BaseException) -> CliError | None:
    """The one-line form of a known failure, or None for an unexpected one."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, InvalidInput):
        return usage_error(f"invalid {exc.field.replace('_', ' ')}: {exc.message}")
    if isinstance(exc, ServiceError):
        return CliError(str(exc) or type(exc).__name__)
    if isinstance(exc, pydantic.ValidationError):
        return settings_error(exc)
    if isinstance(exc, ConfigFileError | SecretKeyError):
        return usage_error(str(exc))
    if isinstance(exc, DatabaseUnavailable):
        if str(exc).startswith("bad database URL"):
            return usage_error(str(exc))
        return CliError(f"database unavailable: {exc}")
    if isinstance(exc, ArgumentError):
        return usage_error(f"bad database URL: {_first_line(exc)}")
    if isinstance(exc, IntegrityError):
        return CliError(f"the database refused the change: {_first_line(exc)}")
    if isinstance(exc, DBAPIError):
        return CliError(f"database error: {_first_line(exc)}")
    if isinstance(exc, CommandError):
        return CliError(f"migration failed: {_first_line(exc)}")
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return CliError(f"{exc.strerror}{where}")
    return None


def _command_line_problem(exc: typer.TyperException) -> int:
    """Report a parsing problem (unknown option, missing value...) and return its exit code."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help page has been shown already
        message = exc.format_message().strip()
        if message:
            typer.echo(message, err=True)
        return exc.exit_code
    message = exc.format_message().replace(": Value error, ", ": ")
    ctx = getattr(exc, "ctx", None)
    if exc.exit_code == USAGE_ERROR and ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    _report(message)
    return exc.exit_code


def _report(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


class GuardedGroup(TyperGroup):
    """The root command group: runs a command and turns any failure into one line and a code."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._run(args, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        **extra: Any,
    ) -> int:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as exc:
            return _command_line_problem(exc)
        except typer.Abort:
            _report("aborted")
            return RUNTIME_ERROR
        except KeyboardInterrupt:
            _report("interrupted")
            return INTERRUPTED
        except Exception as exc:
            known = describe(exc)
            if known is not None:
                _report(known.message)
                return known.exit_code
            _report(f"unexpected {type(exc).__name__}: {_first_line(exc)}")
            if os.environ.get("RINGTRAIL_LOG_LEVEL", "").lower() == "debug":
                traceback.print_exception(exc, file=sys.stderr)
            return RUNTIME_ERROR
        return result if isinstance(result, int) else 0
