"""A project's bot policy: the owner's allow-list and deny-list, and which signals count.

The User-Agent check (domain.bots) runs for every project. Besides it, an owner may list
clients to let through or keep out (a monitoring service they run, a partner's crawler):
an entry is either an address or network (`203.0.113.7`, `198.51.100.0/24`,
`2001:db8::/32`), matched against the visitor's address, or text, matched in the User-Agent
ignoring case (`MyUptimeChecker`, `PartnerBot/2`). The deny-list wins over the allow-list,
and the allow-list over every other signal. Behavioural signals (no storage across page
views, no visible-tab heartbeat, many new visitors from one address) are on unless the owner
turns them off; the data-centre signal is off unless the owner turns it on, since people
browse through cloud-hosted VPNs and proxies too.

The policy lives in `Project.extra["bots"]` as plain JSON: `parse_policy` reads it (and
forgives anything malformed), `policy_to_json` writes it, `check_entries` validates an
owner's input.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_ENTRIES = 50
MAX_ENTRY_LENGTH = 200
MIN_TEXT_LENGTH = 3
EXTRA_KEY = "bots"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SIGNAL_KINDS = ("owner_denied", "no_storage", "no_heartbeat", "busy_address", "data_centre")
"""Why a visit is taken for a bot besides its User-Agent (the `bot` the tracking API gives)."""


class BadEntry(ValueError):
    """An allow-list or deny-list entry that cannot be used; the message says why."""


@dataclass(frozen=True)
class ListEntry:
    """One line of an owner's list: a network, or text to find in the User-Agent."""

    text: str
    network: Network | None = None

    folded: str = field(init=False, repr=False, compare=False)
    span: tuple[int, int, int] = field(init=False, repr=False, compare=False)
    """The network's version and its first and last address as integers ((0, 0, 0): text)."""

    def __post_init__(self) -> None:
        span = (0, 0, 0)
        if self.network is not None:
            first, last = self.network.network_address, self.network.broadcast_address
            span = (self.network.version, int(first), int(last))
        object.__setattr__(self, "folded", self.text.lower())
        object.__setattr__(self, "span", span)

    def matches(self, user_agent_folded: str, address: Address | None) -> bool:
        """Whether this entry names the visitor (`user_agent_folded` is in lower case)."""
        if self.network is None:
            return self.folded in user_agent_folded
        if address is None:
            return False
        version, first, last = self.span
        return address.version == version and first <= int(address) <= last


@dataclass(frozen=True)
class BotPolicy:
    """What one project does about bots beyond the User-Agent check."""

    allow: tuple[ListEntry, ...] = ()
    deny: tuple[ListEntry, ...] = ()
    behaviour: bool = True
    data_centres: bool = False

    def listed(self, user_agent: str, address: str) -> tuple[str, str] | None:
        """("deny" | "allow", the entry) when one of the owner's lists names the visitor."""
        if not (self.allow or self.deny):
            return None
        folded = user_agent.lower()
        parsed = parse_address(address)
        for verdict, entries in (("deny", self.deny), ("allow", self.allow)):
            for entry in entries:
                if entry.matches(folded, parsed):
                    return verdict, entry.text
        return None


DEFAULT_POLICY = BotPolicy()


def parse_address(address: str) -> Address | None:
    """The visitor's address, or None when it is not one (a test client's name)."""
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def parse_entry(raw: str) -> ListEntry:
    """One list entry from an owner's input; raises BadEntry."""
    text = " ".join(raw.split())
    if not text:
        raise BadEntry("an entry is empty")
    if len(text) > MAX_ENTRY_LENGTH:
        raise BadEntry(f"an entry is longer than {MAX_ENTRY_LENGTH} characters")
    if any(c in text for c in "/.:") and all(c in "0123456789abcdefABCDEF.:/[]" for c in text):
        try:
            return ListEntry(text, ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError as exc:
            raise BadEntry(f"{text} is not an address or network") from exc
    if len(text) < MIN_TEXT_LENGTH:
        raise BadEntry(
            f"{text!r} is too short: User-Agent text needs at least {MIN_TEXT_LENGTH} characters"
        )
    return ListEntry(text)


def check_entries(lines: Iterable[str]) -> tuple[ListEntry, ...]:
    """An owner's list (one entry a line, blank lines skipped, repeats dropped); raises
    BadEntry for the first unusable entry or a list over MAX_ENTRIES."""
    entries: dict[str, ListEntry] = {}
    for line in lines:
        if line.strip():
            entry = parse_entry(line)
            entries.setdefault(entry.text.lower(), entry)
    if len(entries) > MAX_ENTRIES:
        raise BadEntry(f"a list holds at most {MAX_ENTRIES} entries")
    return tuple(entries.values())


def parse_policy(extra: Mapping[str, Any] | None) -> BotPolicy:
    """The policy stored in a project's `extra`, the default one where there is none; an
    entry that cannot be read is skipped, so a bad stored value never breaks tracking."""
    data = (extra or {}).get(EXTRA_KEY)
    if not isinstance(data, Mapping):
        return DEFAULT_POLICY
    lists: dict[str, tuple[ListEntry, ...]] = {}
    for name in ("allow", "deny"):
        raw = data.get(name)
        found = []
        for item in raw if isinstance(raw, list) else []:
            try:
                found.append(parse_entry(str(item)))
            except BadEntry:
                continue
        lists[name] = tuple(found[:MAX_ENTRIES])
    return BotPolicy(
        allow=lists["allow"],
        deny=lists["deny"],
        behaviour=data.get("behaviour") is not False,
        data_centres=data.get("data_centres") is True,
    )


def policy_to_json(policy: BotPolicy) -> dict[str, Any]:
    """The policy as `Project.extra["bots"]` keeps it."""
    return {
        "allow": [entry.text for entry in policy.allow],
        "deny": [entry.text for entry in policy.deny],
        "behaviour": policy.behaviour,
        "data_centres": policy.data_centres,
    }
