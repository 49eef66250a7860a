"""Which hosts a recording may be fetched from: the provider's own, plus those an owner lists.

Each provider's resolver names its documented recording hosts (`RecordingHosts`): `origins`,
where the URL an event carries may point, and `redirects`, which only a redirect from an
allowed host may reach (a provider's storage). A project's owner may add hosts on the
telephony account, in `config.recording_hosts`; for the generic webhook, which documents no
host, those are the only ones. Patterns are host names or IP addresses; a `*` label stands
for one or more labels (`*.example.com`, `api.*.twilio.com`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import ip_address
from typing import Any

CONFIG_KEY = "recording_hosts"
MAX_LISTED_HOSTS = 20
MAX_HOST_CHARS = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ANY_LABELS = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*"


@dataclass(frozen=True)
class RecordingHosts:
    """Host patterns a provider's recordings may come from (`origins`) or redirect to."""

    origins: tuple[str, ...] = ()
    redirects: tuple[str, ...] = ()

    def allows(self, host: str, *, redirected: bool) -> bool:
        """Whether a fetch may go to `host`: first hop (`redirected` False) or a redirect."""
        patterns = self.origins + self.redirects if redirected else self.origins
        host = _normalised(host)
        return any(_pattern(pattern).match(host) for pattern in patterns)

    def with_listed(self, listed: Iterable[str]) -> RecordingHosts:
        """These hosts and the ones an owner listed."""
        extra = tuple(host for host in listed if host not in self.origins)
        return RecordingHosts(self.origins + extra, self.redirects)

    def refusal(self, host: str) -> str:
        """Why a fetch from `host` is refused, for the recording's `error`."""
        allowed = ", ".join(self.origins) or "none"
        return (
            f"refused: {host} is not an allowed recording host (allowed: {allowed}; the "
            f"project's owner may add hosts to the telephony account's config.{CONFIG_KEY})"
        )


def _normalised(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ip_address(host))
    except ValueError:
        return host


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    parts = [_ANY_LABELS if label == "*" else re.escape(label) for label in pattern.split(".")]
    return re.compile(r"\A" + r"\.".join(parts) + r"\Z")


def check_host_pattern(value: object) -> str:
    """`value` as a normalised host pattern; ValueError says what is wrong with it."""
    if not isinstance(value, str):
        raise ValueError("each host must be a string")
    host = _normalised(value)
    if not host or len(host) > MAX_HOST_CHARS:
        raise ValueError(f"a host must be 1 to {MAX_HOST_CHARS} characters")
    if ":" in host or _is_ip(host):
        if not _is_ip(host):
            raise ValueError(f"{value!r} is not a host name or IP address (no scheme or port)")
        return host
    labels = host.split(".")
    if not all(label == "*" or _LABEL.match(label) for label in labels):
        raise ValueError(
            f"{value!r} is not a host name or IP address (no scheme, port or path; "
            "write international names in their xn-- form; `*` only as a whole label)"
        )
    named = [label for label in labels if label != "*"]
    if len(named) < 2 or labels[-1] == "*" or labels[-1].isdigit():
        raise ValueError(f"{value!r} is too broad: name at least a domain such as example.com")
    return host


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def check_listed_hosts(value: object) -> list[str]:
    """The owner's `recording_hosts` list, normalised; ValueError says what is wrong."""
    if not isinstance(value, list):
        raise ValueError("must be a list of host names or IP addresses")
    if len(value) > MAX_LISTED_HOSTS:
        raise ValueError(f"at most {MAX_LISTED_HOSTS} hosts")
    hosts = [check_host_pattern(item) for item in value]
    return list(dict.fromkeys(hosts))


def checked_account_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A telephony account's config with its `recording_hosts` checked and normalised."""
    if CONFIG_KEY not in config:
        return dict(config)
    return {**config, CONFIG_KEY: check_listed_hosts(config[CONFIG_KEY])}


def listed_hosts(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The valid hosts an account's config lists (anything else in the list is ignored)."""
    value = config.get(CONFIG_KEY)
    if not isinstance(value, list):
        return ()
    hosts = []
    for item in value:
        try:
            hosts.append(check_host_pattern(item))
        except ValueError:
            continue
    return tuple(hosts)
