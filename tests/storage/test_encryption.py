"""Provider secrets at rest: encrypted in the table, clear through the models, keys rotatable."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.telephony_accounts import set_account
from ringtrail.storage.encryption import Keyring, UndecryptableSecret
from ringtrail.storage.models import Project, TelephonyAccount
from ringtrail.storage.reencrypt import reencrypt_secrets
from tests.conftest import World

TOKEN = "f3a1c0ffee0123456789abcdef012345"


def raw(runtime: Runtime, statement: str) -> str:
    with runtime.engine.connect() as connection:
        value: str = connection.execute(text(statement)).scalar_one()
    return value


def test_a_telephony_secret_is_stored_encrypted_and_read_back_in_clear(
    runtime: Runtime, db: Session, world: World
) -> None:
    set_account(db, world.ours.project, "twilio", {"account_ref": "AC1", "secret": TOKEN})
    db.commit()
    stored = raw(runtime, "SELECT secret FROM telephony_accounts")
    assert TOKEN not in stored
    fresh = runtime.sessions()
    try:
        account = fresh.query(TelephonyAccount).one()
        assert account.secret == TOKEN
    finally:
        fresh.close()


def test_a_generic_webhook_signing_secret_is_stored_encrypted(
    runtime: Runtime, db: Session, world: World
) -> None:
    project_id = world.ours.project.id
    stored = raw(runtime, f"SELECT webhook_secret FROM projects WHERE id = {project_id}")  # noqa: S608
    fresh = runtime.sessions()
    try:
        clear = fresh.get(Project, project_id).webhook_secret  # type: ignore[union-attr]
    finally:
        fresh.close()
    assert len(clear) >= 32 and clear not in stored


def test_a_legacy_plaintext_secret_is_readable_and_reencrypt_encrypts_it(
    runtime: Runtime, db: Session, world: World
) -> None:
    set_account(db, world.ours.project, "zadarma", {"account_ref": "123", "secret": "x"})
    db.commit()
    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE telephony_accounts SET secret = :s"), {"s": TOKEN})
    db.expire_all()
    assert db.query(TelephonyAccount).one().secret == TOKEN
    report = reencrypt_secrets(runtime.engine)
    assert report.encrypted == 1 and report.unreadable == []
    assert TOKEN not in raw(runtime, "SELECT secret FROM telephony_accounts")
    db.expire_all()
    assert db.query(TelephonyAccount).one().secret == TOKEN
    assert reencrypt_secrets(runtime.engine).encrypted == 0


def test_values_written_under_an_old_key_read_after_rotation_until_the_key_is_dropped() -> None:
    old = Keyring.from_materials("an old key of at least thirty-two characters")
    stored = old.encrypt(TOKEN)
    assert stored.startswith("enc1:") and TOKEN not in stored
    assert old.encrypt(TOKEN) != stored  # a fresh nonce every time
    rotated = Keyring.from_materials(
        "the new key, also thirty-two characters or more",
        ["an old key of at least thirty-two characters"],
    )
    assert rotated.decrypt(stored) == TOKEN
    assert not rotated.is_current(stored)
    assert rotated.is_current(rotated.encrypt(TOKEN))
    with pytest.raises(UndecryptableSecret):
        Keyring.from_materials("the new key, also thirty-two characters or more").decrypt(stored)
    assert rotated.decrypt("legacy plain value") == "legacy plain value"
