"""Anti-abuse rules for leads a page submits (callback requests, forms): the pure part.

Why a submission is refused (`Refusal`), with the sentence the operator reads; the checks
that need nothing but the submission and the project's settings: the honeypot field, the
phone number (valid for the project's country, a kind that can be rung), the block list and
the daily cap of calls to one number. Counting requests per address, visitor and phone
needs shared state and lives in services/lead_guard.py.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164

HONEYPOT_FIELD = "website"
"""The hidden field a person never fills in and form-filling bots usually do."""


class Refusal(StrEnum):
    """Why a submission made no lead (or no call)."""

    HONEYPOT = "honeypot"
    INVALID_PHONE = "invalid_phone"
    UNCALLABLE_PHONE = "uncallable_phone"
    BLOCKED_NUMBER = "blocked_number"
    ADDRESS_LIMIT = "address_limit"
    VISITOR_LIMIT = "visitor_limit"
    PHONE_LIMIT = "phone_limit"
    DAILY_CALLS = "daily_calls"


OPERATOR_REASONS: Mapping[Refusal, str] = {
    Refusal.HONEYPOT: "the hidden honeypot field was filled in (a bot)",
    Refusal.INVALID_PHONE: "the phone number is not valid for the project's country",
    Refusal.UNCALLABLE_PHONE: "the number cannot be called back (premium-rate or shared cost)",
    Refusal.BLOCKED_NUMBER: "the number is on the project's block list",
    Refusal.ADDRESS_LIMIT: "too many requests from one IP address",
    Refusal.VISITOR_LIMIT: "too many requests from one visitor",
    Refusal.PHONE_LIMIT: "too many requests for one phone number",
    Refusal.DAILY_CALLS: "the daily number of calls to this number is reached",
}

VISITOR_MESSAGE_KEY: Mapping[Refusal, str] = {
    Refusal.INVALID_PHONE: "invalid_phone",
    Refusal.UNCALLABLE_PHONE: "invalid_phone",
}
"""The widget text a refusal shows; every other refusal shows the polite `refused`."""

UNCALLABLE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.PAGER,
    }
)


@dataclass(frozen=True)
class Checked:
    """A submission that passed the pure checks: its number in E.164 (None without one)."""

    phone_e164: str | None


class Refused(Exception):
    """A submission refused for `reason`; `retry_after` seconds when a limit will lift."""

    def __init__(self, reason: Refusal, retry_after: float | None = None) -> None:
        super().__init__(OPERATOR_REASONS[reason])
        self.reason = reason
        self.retry_after = retry_after

    @property
    def visitor_text_key(self) -> str:
        """Which widget text the visitor reads."""
        return VISITOR_MESSAGE_KEY.get(self.reason, "refused")


def callable_e164(raw: str, default_country: str | None) -> str:
    """`raw` as E.164 if it is a valid number we would ring; raises `Refused` otherwise."""
    if len(raw) > 40:
        raise Refused(Refusal.INVALID_PHONE)
    try:
        e164 = to_e164(raw, default_country)
    except InvalidPhoneNumber:
        raise Refused(Refusal.INVALID_PHONE) from None
    if phonenumbers.number_type(phonenumbers.parse(e164)) in UNCALLABLE_TYPES:
        raise Refused(Refusal.UNCALLABLE_PHONE)
    return e164


def check_submission(
    *,
    phone: str | None,
    honeypot: str | None,
    default_country: str | None,
    blocked: Collection[str],
    phone_required: bool = True,
) -> Checked:
    """The checks needing no counters, in order: honeypot, number, block list."""
    if honeypot and honeypot.strip():
        raise Refused(Refusal.HONEYPOT)
    if not phone or not phone.strip():
        if phone_required:
            raise Refused(Refusal.INVALID_PHONE)
        return Checked(None)
    e164 = callable_e164(phone, default_country)
    if e164 in blocked:
        raise Refused(Refusal.BLOCKED_NUMBER)
    return Checked(e164)


def check_daily_calls(calls_today: int, limit: int) -> None:
    """Refuse one more call to a number already called `calls_today` times today."""
    if calls_today >= limit:
        raise Refused(Refusal.DAILY_CALLS)
