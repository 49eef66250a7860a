"""`ringtrail secrets reencrypt`: plaintext left by older versions, and key rotation."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.telephony_accounts import set_account
from ringtrail.storage.models import TelephonyAccount
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World

TOKEN = "f3a1c0ffee0123456789abcdef012345"
OLD_KEY = "test-secret-key-not-for-production"
NEW_KEY = "a brand new encryption key of more than 32 characters"


def stored_secret(runtime: Runtime) -> str:
    with runtime.engine.connect() as connection:
        value: str = connection.execute(text("SELECT secret FROM telephony_accounts")).scalar_one()
    return value


def legacy_plaintext_account(runtime: Runtime, db: Session, world: World) -> None:
    """A Twilio account whose secret an older version stored as it is."""
    set_account(db, world.ours.project, "twilio", {"account_ref": "AC1", "secret": "x"})
    db.commit()
    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE telephony_accounts SET secret = :s"), {"s": TOKEN})


def test_reencrypt_leaves_no_plaintext_secret(
    backend_invoke: Invoke, runtime: Runtime, db: Session, world: World
) -> None:
    legacy_plaintext_account(runtime, db, world)
    result = backend_invoke("secrets", "reencrypt")
    assert result.exit_code == 0, result.output
    assert "plaintext secret(s)" in result.stdout
    assert TOKEN not in stored_secret(runtime)
    db.expire_all()
    assert db.query(TelephonyAccount).one().secret == TOKEN


def test_any_command_encrypts_plaintext_left_by_an_older_version_as_it_starts(
    backend_invoke: Invoke, runtime: Runtime, db: Session, world: World
) -> None:
    legacy_plaintext_account(runtime, db, world)
    assert backend_invoke("apikey", "list").exit_code == 0
    assert TOKEN not in stored_secret(runtime)
    db.expire_all()
    assert db.query(TelephonyAccount).one().secret == TOKEN


def test_reencrypt_moves_secrets_to_a_new_key_and_names_what_it_cannot_read(
    backend_invoke: Invoke, runtime: Runtime, db: Session, world: World
) -> None:
    set_account(db, world.ours.project, "twilio", {"account_ref": "AC1", "secret": TOKEN})
    db.commit()
    without_old = backend_invoke("secrets", "reencrypt", RINGTRAIL_ENCRYPTION_KEY=NEW_KEY)
    line = assert_one_error_line(without_old, 1)
    assert "could not be decrypted" in line and "RINGTRAIL_ENCRYPTION_OLD_KEYS" in line
    rotated = backend_invoke(
        "secrets",
        "reencrypt",
        RINGTRAIL_ENCRYPTION_KEY=NEW_KEY,
        RINGTRAIL_ENCRYPTION_OLD_KEYS=OLD_KEY,
    )
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 3 secret(s)" in rotated.stdout  # two projects' and the account's
    # now only the new key reads them
    assert_one_error_line(backend_invoke("secrets", "reencrypt"), 1)
    again = backend_invoke("secrets", "reencrypt", RINGTRAIL_ENCRYPTION_KEY=NEW_KEY)
    assert again.exit_code == 0, again.output
