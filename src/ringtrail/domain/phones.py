"""Phone numbers: parsing any written form into E.164 for a project's default country."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The text is not a valid, dialable phone number."""


def to_e164(raw: str, default_country: str | None = None) -> str:
    """Parse `raw` (any common written form) and return it as E.164, or raise.

    `default_country` (ISO 3166 alpha-2) applies to national forms such as `(044) 123-45-67`.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    try:
        parsed = phonenumbers.parse(text, (default_country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("not a valid phone number for its country")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_valid_country(code: str) -> bool:
    """Whether `code` is a region phonenumbers knows (ISO 3166 alpha-2)."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS
