"""Rewriting stored secrets: encrypting plaintext, moving values to the current key, decrypting.

Every column of type EncryptedText in the models is covered. Values are read and written raw
(the column type would decrypt and encrypt them), each update only where the value is still
the one read, so processes doing this at once never overwrite each other's work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, TableClause, column, select, table

from ringtrail.storage.encryption import (
    PREFIX,
    EncryptedText,
    UndecryptableSecret,
    is_encrypted,
    keyring_of,
)
from ringtrail.storage.models import Base


@dataclass
class SecretsReport:
    """What a pass did: plaintext values encrypted, values moved to the current key or
    decrypted, and the values no configured key opens (`table.column id N`)."""

    encrypted: int = 0
    rotated: int = 0
    decrypted: int = 0
    unreadable: list[str] = field(default_factory=list)


def encrypted_columns() -> Iterator[tuple[str, str]]:
    """(table, column) of every column stored encrypted."""
    for model_table in Base.metadata.sorted_tables:
        for model_column in model_table.columns:
            if isinstance(model_column.type, EncryptedText):
                yield model_table.name, model_column.name


def reencrypt_secrets(engine: Engine, *, plaintext_only: bool = False) -> SecretsReport:
    """Encrypt plaintext values under the current key of the engine's keyring, and (unless
    `plaintext_only`) move values encrypted under an old key to the current one. The keyring
    is only asked for when there is something to encrypt or check."""
    report = SecretsReport()

    def rewrite(stored: str, where: str) -> str | None:
        if not is_encrypted(stored):
            report.encrypted += 1
            return keyring_of(engine.dialect).encrypt(stored)
        keyring = keyring_of(engine.dialect)
        if plaintext_only or keyring.is_current(stored):
            return None
        try:
            fresh = keyring.encrypt(keyring.decrypt(stored))
        except UndecryptableSecret:
            report.unreadable.append(where)
            return None
        report.rotated += 1
        return fresh

    _rewrite_all(engine, rewrite, only_plaintext=plaintext_only)
    return report


def decrypt_secrets(engine: Engine) -> SecretsReport:
    """Write every encrypted value back as plaintext (before downgrading below 0008)."""
    report = SecretsReport()

    def rewrite(stored: str, where: str) -> str | None:
        if not is_encrypted(stored):
            return None
        try:
            clear = keyring_of(engine.dialect).decrypt(stored)
        except UndecryptableSecret:
            report.unreadable.append(where)
            return None
        report.decrypted += 1
        return clear

    _rewrite_all(engine, rewrite, only_plaintext=False)
    return report


def _rewrite_all(
    engine: Engine, rewrite: Callable[[str, str], str | None], *, only_plaintext: bool
) -> None:
    for table_name, column_name in encrypted_columns():
        raw: TableClause = table(table_name, column("id"), column(column_name))
        value = raw.c[column_name]
        query = select(raw.c.id, value).where(value.is_not(None)).order_by(raw.c.id)
        if only_plaintext:
            query = query.where(value.not_like(PREFIX + "%"))
        with engine.begin() as connection:
            for row_id, stored in connection.execute(query).all():
                new = rewrite(stored, f"{table_name}.{column_name} id {row_id}")
                if new is not None:
                    connection.execute(
                        raw.update()
                        .where(raw.c.id == row_id, value == stored)
                        .values({column_name: new})
                    )
