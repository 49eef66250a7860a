"""Demo phone numbers: the agency's Kyiv tracking numbers and callers' mobiles, all valid E.164."""

from __future__ import annotations

import random

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164

_UA_MOBILE_CODES = ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
_TRACKING_BLOCK = "+38044290"


def tracking_number(index: int) -> str:
    """The agency's `index`-th Kyiv tracking number, from its own block (+38044 290 02 00 ...)."""
    if not 0 <= index < 1000:
        raise ValueError("the demo number block holds 1000 numbers")
    return to_e164(f"{_TRACKING_BLOCK}{200 + index:04d}")


def caller_number(rng: random.Random) -> str:
    """A random caller: mostly Ukrainian mobiles, some Kyiv landlines, a few from abroad."""
    while True:
        roll = rng.random()
        if roll < 0.84:
            raw = f"+380{rng.choice(_UA_MOBILE_CODES)}{rng.randrange(10**7):07d}"
        elif roll < 0.96:
            raw = f"+38044{rng.randrange(2, 6)}{rng.randrange(10**6):06d}"
        elif roll < 0.99:
            raw = f"+48{rng.choice('5678')}{rng.randrange(10**8):08d}"
        else:
            raw = f"+4915{rng.choice('1279')}{rng.randrange(10**8):08d}"
        try:
            return to_e164(raw)
        except InvalidPhoneNumber:
            continue


def caller_country(e164: str) -> str:
    """The ISO country of a demo caller's number."""
    if e164.startswith("+380"):
        return "UA"
    if e164.startswith("+48"):
        return "PL"
    return "DE"
