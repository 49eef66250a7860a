"""`ringtrail secrets ...`: provider secrets at rest, encrypted with the current key."""

from __future__ import annotations

import typer

from ringtrail.cli.context import load_settings, open_runtime
from ringtrail.cli.errors import CliError
from ringtrail.storage.reencrypt import SecretsReport, decrypt_secrets, reencrypt_secrets

app = typer.Typer(help="Manage provider secrets stored encrypted.", no_args_is_help=True)


def _refuse_unreadable(report: SecretsReport) -> None:
    if not report.unreadable:
        return
    shown = ", ".join(report.unreadable[:5]) + (" ..." if len(report.unreadable) > 5 else "")
    raise CliError(
        f"{len(report.unreadable)} secret(s) could not be decrypted with any configured key "
        f"({shown}); add the key they were written with to RINGTRAIL_ENCRYPTION_OLD_KEYS"
    )


@app.command("reencrypt")
def reencrypt() -> None:
    """Encrypt plaintext secrets and move those under an old key to the current key."""
    with open_runtime(load_settings()) as runtime:
        report = reencrypt_secrets(runtime.engine)
    typer.echo(
        f"encrypted {report.encrypted} plaintext secret(s), "
        f"re-encrypted {report.rotated} secret(s) under the current key"
    )
    _refuse_unreadable(report)


@app.command("decrypt")
def decrypt() -> None:
    """Store every secret as plaintext again: only before `ringtrail migrate --downgrade`
    to a revision before 0008."""
    with open_runtime(load_settings()) as runtime:
        report = decrypt_secrets(runtime.engine)
    typer.echo(f"decrypted {report.decrypted} secret(s)")
    _refuse_unreadable(report)
