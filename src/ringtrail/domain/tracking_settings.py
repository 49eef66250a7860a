"""What a project's tracking settings may hold: allowed domains, swap selectors and when a
visitor takes a pool number (`number_allocation`).

Allowed domains are host names only (no scheme, port or path), stored lower-case in their
ASCII (IDNA) form, the form a browser sends in `Origin`, so `bücher.example` and
`xn--bcher-kva.example` are the same domain. Swap selectors are CSS selectors the tracking
script hands to `querySelectorAll`; the check here refuses what can never be a selector (the
script still skips one the browser rejects, so a subtle mistake only costs that selector).
"""

from __future__ import annotations

import re

MAX_DOMAINS = 50
MAX_DOMAIN_LENGTH = 253
MAX_SELECTORS = 20
MAX_SELECTOR_LENGTH = 200
MAX_REPLACE_NUMBERS = 20
NUMBER_ALLOCATIONS = ("visit", "intent")
"""When a visitor takes a pool number: at the visit's start (`visit`, the default), or at the
first sign of intent, a phone number in view or a phone link touched (`intent`)."""
DEFAULT_NUMBER_ALLOCATION = "visit"

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PAIRS = {"(": ")", "[": "]"}
_FORBIDDEN_IN_SELECTOR = set("{};<") | {chr(c) for c in range(32)} | {"\x7f"}


class InvalidSetting(ValueError):
    """A tracking setting that cannot be stored; the message says why in words."""


def normalize_domain(raw: str) -> str:
    """`raw` as a lower-case ASCII host name, or InvalidSetting.

    Surrounding spaces and dots are dropped; a scheme, path, port, wildcard or user part is
    refused with the reason, so nobody stores `https://example.com/` and wonders why it fails.
    """
    text = raw.strip().strip(".")
    if not text:
        raise InvalidSetting("empty domain")
    if "://" in text or "/" in text:
        raise InvalidSetting(f"{raw.strip()}: a host name only, without https:// or a path")
    if "*" in text:
        raise InvalidSetting(f"{raw.strip()}: no wildcards; subdomains are allowed already")
    if ":" in text or "@" in text or any(c.isspace() for c in text):
        raise InvalidSetting(f"{raw.strip()}: a host name only, without a port or spaces")
    try:
        ascii_form = text.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidSetting(f"{raw.strip()}: not a valid host name") from exc
    if len(ascii_form) > MAX_DOMAIN_LENGTH:
        raise InvalidSetting(f"{raw.strip()}: longer than {MAX_DOMAIN_LENGTH} characters")
    if not all(_LABEL.match(label) for label in ascii_form.split(".")):
        raise InvalidSetting(f"{raw.strip()}: not a valid host name")
    return ascii_form


def normalize_domains(raw: list[str]) -> list[str]:
    """Every domain normalised, duplicates dropped, sorted; InvalidSetting on the first bad one."""
    domains = sorted({normalize_domain(item) for item in raw})
    if len(domains) > MAX_DOMAINS:
        raise InvalidSetting(f"at most {MAX_DOMAINS} domains")
    return domains


def check_selector(raw: str) -> str:
    """`raw` stripped, or InvalidSetting when it can never be a CSS selector."""
    text = raw.strip()
    if not text:
        raise InvalidSetting("empty selector")
    if len(text) > MAX_SELECTOR_LENGTH:
        raise InvalidSetting(f"{text[:40]}...: longer than {MAX_SELECTOR_LENGTH} characters")
    bad = sorted(set(text) & _FORBIDDEN_IN_SELECTOR)
    if bad:
        raise InvalidSetting(f"{text}: a selector cannot hold {bad[0]!r}")
    if text[0] in ">+~," or text[-1] in ">+~,":
        raise InvalidSetting(f"{text}: starts or ends with a combinator or comma")
    if not _balanced(text):
        raise InvalidSetting(f"{text}: unbalanced brackets or quotes")
    return text


def check_selectors(raw: list[str]) -> list[str]:
    """Every selector checked, duplicates dropped in order; InvalidSetting on the first bad one."""
    selectors = list(dict.fromkeys(check_selector(item) for item in raw))
    if len(selectors) > MAX_SELECTORS:
        raise InvalidSetting(f"at most {MAX_SELECTORS} selectors")
    return selectors


def check_number_allocation(raw: object) -> str:
    """`raw` as one of NUMBER_ALLOCATIONS, or InvalidSetting."""
    text = str(raw or "").strip().lower()
    if text not in NUMBER_ALLOCATIONS:
        raise InvalidSetting(f"{raw!r}: one of {', '.join(NUMBER_ALLOCATIONS)}")
    return text


def number_allocation_of(extra: object) -> str:
    """The `number_allocation` stored in a project's `extra`; the default when unset or odd."""
    value = extra.get("number_allocation") if isinstance(extra, dict) else None
    return value if value in NUMBER_ALLOCATIONS else DEFAULT_NUMBER_ALLOCATION


def _balanced(text: str) -> bool:
    stack: list[str] = []
    quote: str | None = None
    for char in text:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in ")]" and (not stack or stack.pop() != char):
            return False
    return quote is None and not stack
