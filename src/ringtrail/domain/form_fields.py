"""Which fields of a submitted form a lead keeps, and which are contact details.

The forms script (`/f.js`) applies the same rules in the browser; the server applies them
again to whatever arrives (the script, or a site's backend through the API), so a secret
never reaches the database even from a caller that ignores them:

- a field whose name reads as a phone, an e-mail or a person's name is a contact field, kept
  in the lead's own columns;
- any other field is kept only when the project names it in its allowed fields;
- password and payment-card fields (by name, or a value that passes the card-number check)
  are never kept, even when named;
- hidden fields are kept only when named (the browser knows a field is hidden; the server
  sees names only, so it relies on the allowed list for everything that is not contact).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

MAX_FIELDS = 30
MAX_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 2000

_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|csrf|captcha|card|cc-?(num|number|exp|csc|cvv)|cvv|cvc|"
    r"security.?code|iban|ssn|pin$",
    re.IGNORECASE,
)
_PHONE_NAME = re.compile(r"phone|tel|mobile|cell|whatsapp|телефон|номер", re.IGNORECASE)
_EMAIL_NAME = re.compile(r"e-?mail|почта", re.IGNORECASE)
_NAME_NAME = re.compile(
    r"^(name|full.?name|first.?name|your.?name|contact.?name|fio|имя|ім'я|фио|піб)$|"
    r"\[name\]$|_name$",
    re.IGNORECASE,
)
_CARD_DIGITS = re.compile(r"^[0-9][0-9 -]{11,22}[0-9]$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}$")


@dataclass(frozen=True)
class FormPolicy:
    """A project's form-tracking options (`Project.extra["forms"]`)."""

    enabled: bool = False
    selector: str | None = None
    allowed_fields: tuple[str, ...] = ()

    @classmethod
    def from_extra(cls, extra: Mapping[str, object] | None) -> FormPolicy:
        """The policy stored under `extra["forms"]`, tolerant of missing or odd values."""
        raw = (extra or {}).get("forms")
        if not isinstance(raw, Mapping):
            return cls()
        selector = raw.get("selector")
        allowed = raw.get("allowed_fields")
        return cls(
            enabled=bool(raw.get("enabled")),
            selector=selector.strip() or None if isinstance(selector, str) else None,
            allowed_fields=tuple(
                str(name).strip()[:MAX_NAME_LENGTH]
                for name in (allowed if isinstance(allowed, list | tuple) else ())
                if str(name).strip()
            ),
        )

    def to_extra(self) -> dict[str, object]:
        """What `extra["forms"]` stores."""
        return {
            "enabled": self.enabled,
            "selector": self.selector,
            "allowed_fields": list(self.allowed_fields),
        }


@dataclass(frozen=True)
class FormFields:
    """A form's fields as a lead keeps them."""

    phone: str | None = None
    email: str | None = None
    name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()


def is_secret_name(name: str) -> bool:
    """Whether a field named `name` may hold a password, a card or another secret."""
    return bool(_SECRET_NAME.search(name))


def looks_like_card_number(value: str) -> bool:
    """Whether `value` is 13 to 19 digits (spaces or dashes allowed) passing the Luhn check."""
    if not _CARD_DIGITS.match(value.strip()):
        return False
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def contact_role(name: str) -> str | None:
    """The contact a field holds by its name: "phone", "email", "name", or None."""
    if is_secret_name(name):
        return None
    if _EMAIL_NAME.search(name):
        return "email"
    if _PHONE_NAME.search(name):
        return "phone"
    if _NAME_NAME.search(name):
        return "name"
    return None


def is_email(value: str) -> bool:
    """A loose shape check: something@host.tld with no spaces."""
    return bool(_EMAIL.match(value))


def select_fields(
    raw: Mapping[str, str],
    allowed: Collection[str],
    *,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
) -> FormFields:
    """What a lead keeps of `raw` under the project's `allowed` names.

    Explicit `phone`, `email` and `name` (a backend that knows them) win over fields found
    by name. `dropped` names what was left out, for the lead's audit trail (never values).
    """
    kept: dict[str, str] = {}
    dropped: list[str] = []
    found: dict[str, str] = {}
    allowed_names = {a.lower() for a in allowed}
    for index, (key, value) in enumerate(raw.items()):
        key, text = str(key)[:MAX_NAME_LENGTH], str(value).strip()[:MAX_VALUE_LENGTH]
        if index >= MAX_FIELDS or is_secret_name(key) or looks_like_card_number(text):
            dropped.append(key)
            continue
        if not text:
            continue
        role = contact_role(key)
        if role == "email" and not is_email(text):
            role = None
        if role is not None and role not in found:
            found[role] = text
            continue
        if key.lower() in allowed_names:
            kept[key] = text
        else:
            dropped.append(key)
    return FormFields(
        phone=phone or found.get("phone"),
        email=email or found.get("email"),
        name=name or found.get("name"),
        fields=kept,
        dropped=tuple(dropped),
    )
