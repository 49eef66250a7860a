"""The domain the visitor cookie is set on: the registrable domain (eTLD+1) of the page's host.

Taking the last two labels breaks on `example.co.uk` (browsers reject a cookie for `co.uk`),
so the Public Suffix List decides. Private suffixes count: browsers honour them, so
`alice.github.io` is its own registrable domain and a cookie for `github.io` would be
refused. The list is the copy shipped inside the `publicsuffixlist` package, read once on
first use (like loading a module); nothing is fetched and nothing is written.

The answer is in ASCII (punycode for international names), as a `Domain=` attribute needs.
None means "set a host-only cookie": localhost, IP addresses, single labels, public suffixes
themselves and anything that is not a valid host name.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache

from publicsuffixlist import PublicSuffixList

MAX_HOST_LENGTH = 253

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


@cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=True)


@lru_cache(maxsize=1024)
def registrable_domain(host: str) -> str | None:
    """The eTLD+1 of `host` for a cookie's Domain attribute, or None for a host-only cookie."""
    name = _ascii_host(host)
    if name is None or "." not in name:
        return None
    return _suffix_list().privatesuffix(name)


def _ascii_host(host: str) -> str | None:
    """The host lower-cased, without port and trailing dot, in punycode; None if not a name."""
    if not isinstance(host, str) or len(host) > MAX_HOST_LENGTH + 10:
        return None
    name = host.strip().lower()
    if name.startswith("["):
        return None  # "[::1]:8000": an IPv6 literal
    name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    name = name.rstrip(".")
    if not name or _is_ip_address(name):
        return None
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if len(name) > MAX_HOST_LENGTH:
        return None
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
