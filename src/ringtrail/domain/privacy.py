"""Callers' personal data: masking a number for roles that may not see it, retention cut-offs."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

MASK = "\u2022"  # a bullet: "+38050•••••67"
SHOWN_HEAD = 6
"""Characters kept at the start: "+" and the country and operator code of most numbers."""
SHOWN_TAIL = 2
"""Digits kept at the end, enough to tell two callers apart in a list, not to call back."""
MAX_RETENTION_DAYS = 3650


def mask_phone(number: str | None) -> str | None:
    """`number` with its middle hidden (`+380501234567` -> `+38050•••••67`); None stays None.

    At least a third of the characters (and at least one) are always hidden, however short
    the number, so the mask never gives the whole number back.
    """
    if not number:
        return number
    hidden = max(len(number) - SHOWN_HEAD - SHOWN_TAIL, -(-len(number) // 3))
    shown = len(number) - hidden
    tail = min(SHOWN_TAIL, shown // 2)
    head = shown - tail
    return number[:head] + MASK * hidden + number[len(number) - tail :]


def phone_digest(number: str, salt: bytes) -> str:
    """A keyed hash of an E.164 number: repeated erasure requests match without storing it."""
    return hmac.new(salt, number.encode(), hashlib.sha256).hexdigest()


def retention_cutoff(now: datetime, days: int | None) -> datetime | None:
    """The instant before which data kept for `days` days is due to go (None: kept forever)."""
    return None if days is None else now - timedelta(days=days)
