"""Secrets at rest: AES-GCM encryption of provider secrets, keys bound per engine, rotation.

A stored value is `enc1:` followed by URL-safe base64 of a 12-byte nonce and the AES-256-GCM
ciphertext; a value without the prefix is plaintext written by an older version and is read
as it is (`ringtrail secrets reencrypt`, and every process start, encrypt such values).

Keys are derived with HKDF-SHA256 from key material (RINGTRAIL_ENCRYPTION_KEY, else the
secret key), so any long random string serves. The first key encrypts; every key, the old
ones included, is tried to decrypt, which lets a new key be rolled out before old values are
re-encrypted. A keyring is bound to an engine (its dialect), so two runtimes in one process
with different keys never read each other's values with the wrong key.
"""

from __future__ import annotations

import base64
import binascii
import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Dialect, Engine, Text
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1:"
NONCE_BYTES = 12
HKDF_INFO = b"ringtrail secrets at rest v1"


class UndecryptableSecret(ValueError):
    """A stored secret that none of the configured keys decrypts."""


class NoKeyring(RuntimeError):
    """An encrypted column was used through an engine with no keyring bound to it."""


def derive_key(material: str) -> bytes:
    """The 256-bit AES key for key material (any string; long and random in production)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO)
    return hkdf.derive(material.encode("utf-8"))


def is_encrypted(stored: str) -> bool:
    """Whether a stored value was written encrypted (else it is legacy plaintext)."""
    return stored.startswith(PREFIX)


@dataclass(frozen=True)
class Keyring:
    """The key that encrypts and the older keys that still decrypt."""

    keys: tuple[AESGCM, ...]

    @classmethod
    def from_materials(cls, current: str, old: Sequence[str] = ()) -> Keyring:
        """A keyring encrypting under `current` and decrypting with it or any of `old`."""
        return cls(tuple(AESGCM(derive_key(material)) for material in (current, *old)))

    def encrypt(self, plaintext: str) -> str:
        """`plaintext` encrypted under the current key, with a fresh random nonce."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[0].encrypt(nonce, plaintext.encode("utf-8"), None)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plaintext of a stored value; legacy plaintext is returned unchanged."""
        if not is_encrypted(stored):
            return stored
        opened = self._open(stored, self.keys)
        if opened is None:
            raise UndecryptableSecret(
                "a stored secret does not decrypt with any configured key; set the key it was "
                "written with in RINGTRAIL_ENCRYPTION_KEY or RINGTRAIL_ENCRYPTION_OLD_KEYS"
            )
        return opened

    def is_current(self, stored: str) -> bool:
        """Whether a stored value is encrypted under the current key (nothing to re-encrypt)."""
        return is_encrypted(stored) and self._open(stored, self.keys[:1]) is not None

    @staticmethod
    def _open(stored: str, keys: Sequence[AESGCM]) -> str | None:
        try:
            blob = base64.urlsafe_b64decode(stored[len(PREFIX) :])
        except (binascii.Error, ValueError):
            return None
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        for key in keys:
            try:
                return key.decrypt(nonce, sealed, None).decode("utf-8")
            except (InvalidTag, ValueError):
                continue
        return None


_BOUND: weakref.WeakKeyDictionary[Dialect, Callable[[], Keyring]] = weakref.WeakKeyDictionary()


def bind_keyring(engine: Engine, keyring: Keyring | Callable[[], Keyring]) -> None:
    """Use `keyring` for the encrypted columns read and written through `engine`.

    A callable is called once, on first use, so a process that never touches a secret never
    needs its key (nor creates a key file).
    """
    _BOUND[engine.dialect] = (lambda: keyring) if isinstance(keyring, Keyring) else cache(keyring)


def keyring_of(dialect: Dialect) -> Keyring:
    """The keyring bound to the engine of `dialect`; NoKeyring when there is none."""
    factory = _BOUND.get(dialect)
    if factory is None:
        raise NoKeyring("no encryption keyring is bound to this engine (see runtime.bootstrap)")
    return factory()


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted (see the module docstring); plaintext legacy values read
    as they are. Never compare it in SQL: equal plaintexts are stored differently."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).decrypt(str(value))
