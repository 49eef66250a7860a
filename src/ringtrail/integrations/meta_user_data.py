"""Meta Conversions API `user_data`: the caller's contact data normalised and SHA-256 hashed
exactly as Meta specifies, the browser ids (`fbc`, `fbp`) passed unhashed.

Meta's rules (its parameters page and its own SDK's `serverside/normalize.py`): a phone is its
digits with the country code, no `+`, no leading `00`; an email is trimmed and lowercased;
each is then SHA-256, lowercase hex. `12345678901` hashes to
`254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4` (Meta's own example).
`external_id` is hashed too, as Meta recommends; `fbc` and `fbp` must never be.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ringtrail.domain.analytics_ids import parse_fbc, parse_fbp
from ringtrail.domain.phones import dialled_to_e164

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HASHED = re.compile(r"[0-9a-f]{64}")
MAX_EXTERNAL_ID_LENGTH = 500


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_phone(raw: str | None, default_country: str | None = None) -> str | None:
    """The digits Meta hashes for a phone: country code and number, nothing else; None for
    anything that is not a dialable number (a withheld caller id, `anonymous`, junk).

    An E.164 number (what Ringtrail stores) is taken as it is; any other written form is read
    as telephony writes it, national forms in `default_country`.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    e164 = text if _E164.fullmatch(text) else dialled_to_e164(text, default_country)
    if e164 is None or not _E164.fullmatch(e164):
        return None
    return e164[1:]


def normalise_email(raw: str | None) -> str | None:
    """The trimmed, lowercased address; None for anything that is not one."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().lower()
    return text if _EMAIL.fullmatch(text) else None


def hashed_phone(raw: str | None, default_country: str | None = None) -> str | None:
    """`ph`: the normalised phone's SHA-256, or None."""
    digits = normalise_phone(raw, default_country)
    return sha256_hex(digits) if digits else None


def hashed_email(raw: str | None) -> str | None:
    """`em`: the normalised email's SHA-256, or None."""
    email = normalise_email(raw)
    return sha256_hex(email) if email else None


def hashed_external_id(raw: object) -> str | None:
    """`external_id`: an id of the person in Ringtrail or the CRM, hashed (a value that already
    is a SHA-256 hex digest is kept, as Meta's SDK does)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > MAX_EXTERNAL_ID_LENGTH:
        return None
    if _HASHED.fullmatch(text.lower()):
        return text.lower()
    return sha256_hex(text)


def user_data(
    *,
    phone: str | None = None,
    email: str | None = None,
    external_id: object = None,
    fbc: str | None = None,
    fbp: str | None = None,
    default_country: str | None = None,
) -> dict[str, Any]:
    """The `user_data` object: only the keys there is something valid for."""
    data: dict[str, Any] = {}
    ph = hashed_phone(phone, default_country)
    if ph:
        data["ph"] = [ph]
    em = hashed_email(email)
    if em:
        data["em"] = [em]
    external = hashed_external_id(external_id)
    if external:
        data["external_id"] = [external]
    valid_fbc = parse_fbc(fbc) if isinstance(fbc, str) else None
    if valid_fbc:
        data["fbc"] = valid_fbc
    valid_fbp = parse_fbp(fbp) if isinstance(fbp, str) else None
    if valid_fbp:
        data["fbp"] = valid_fbp
    return data
