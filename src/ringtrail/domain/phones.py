"""Phone numbers: parsing any written form into E.164 for a project's default country."""

from __future__ import annotations

import phonenumbers
from phonenumbers import geocoder


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


def dialled_to_e164(raw: str, default_country: str | None = None) -> str | None:
    """A number as telephony writes it (`+380…`, `380…`, `0…`, `sip:380…@host`) in E.164.

    National forms are read in `default_country` first; bare international digits without
    `+` (as SIP and many PBXs send them) are tried next. None when no reading is valid.
    """
    text = raw.strip()
    if text.lower().startswith(("sip:", "sips:", "tel:")):
        text = text.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
    if not text:
        return None
    attempts = [text] if text.startswith("+") else [text, "+" + text.lstrip("0")]
    for attempt in attempts:
        try:
            return to_e164(attempt, default_country)
        except InvalidPhoneNumber:
            continue
    return None


def caller_geography(e164: str) -> tuple[str | None, str | None]:
    """The country (ISO alpha-2) and region or city of a number, from phonenumbers' offline data.

    Mobile numbers usually have a country only; fixed lines often name a city or region.
    """
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None, None
    country = phonenumbers.region_code_for_number(parsed)
    region = geocoder.description_for_number(parsed, "en") or None
    country = country if country and country != "ZZ" else None
    if (
        region is not None
        and country is not None
        and region == geocoder.country_name_for_number(parsed, "en")
    ):
        region = None
    return country, region
