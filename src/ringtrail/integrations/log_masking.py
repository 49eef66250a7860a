"""What the delivery log may show of a payload: a copy with every secret value blanked.

Hashed personal data (a SHA-256 of a phone number can be reversed by trying every number) is
shown as `HASHED`: the log says that it was sent, not what it was."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

MASK = "••••"
MIN_SEARCHED_SECRET = 8
"""A shorter secret is blanked only where it is a whole value: searched for inside text it
would blank half the log."""
HASHED = "sha256:••••"


def secret_values(config: BaseModel, secret_fields: Iterable[str]) -> frozenset[str]:
    """The non-empty values of `config`'s secret fields."""
    found = set()
    for name in secret_fields:
        value = getattr(config, name, None)
        if isinstance(value, str) and value:
            found.add(value)
    return frozenset(found)


def without_secrets(value: Any, secrets: frozenset[str]) -> Any:
    """A deep copy of a JSON-like `value` with every string holding a secret blanked."""
    if isinstance(value, dict):
        return {key: without_secrets(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_secrets(item, secrets) for item in value]
    if isinstance(value, str) and any(_holds(value, secret) for secret in secrets):
        return MASK
    return value


def _holds(value: str, secret: str) -> bool:
    return value == secret or (len(secret) >= MIN_SEARCHED_SECRET and secret in value)
