"""Which network addresses a recording fetch may connect to: public ones, and the operator's.

A recording URL comes from a webhook, so a tenant chooses it. Without these rules the worker
could be made to read an internal service (and serve the answer back as a "recording") or
to probe ports. Loopback, private, link-local, multicast, reserved, unspecified and other
non-public addresses are refused, including IPv4 addresses carried inside IPv6 ones
(IPv4-mapped, 6to4, Teredo). The operator may allow networks anyway
(`RINGTRAIL_RECORDING_FETCH_ALLOWED_NETWORKS`), such as a PBX on the LAN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


class AddressRefused(Exception):
    """A fetch would have connected to an address the rules do not allow."""


@dataclass(frozen=True)
class AddressRules:
    """Public addresses are allowed, others only inside `allowed_networks`."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, networks: Iterable[IPNetwork]) -> AddressRules:
        """Rules that also allow `networks` (the operator's setting)."""
        return cls(tuple(networks))

    def why_refused(self, address: IPAddress) -> str | None:
        """None when a fetch may connect to `address`; else what kind of address it is."""
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            return self.why_refused(address.ipv4_mapped)
        if self._operator_allows(address):
            return None
        kind = _non_public_kind(address)
        if kind is not None or isinstance(address, IPv4Address):
            return kind
        for inner in _embedded_ipv4(address):
            inner_kind = self.why_refused(inner)
            if inner_kind is not None:
                return f"{inner_kind} inside an IPv6 address"
        return None

    def _operator_allows(self, address: IPAddress) -> bool:
        return any(
            address.version == network.version and address in network
            for network in self.allowed_networks
        )


def _non_public_kind(address: IPAddress) -> str | None:
    checks = (
        (address.is_unspecified, "an unspecified"),
        (address.is_loopback, "a loopback"),
        (address.is_link_local, "a link-local"),
        (address.is_multicast, "a multicast"),
        (address.is_reserved, "a reserved"),
        (address.is_private, "a private"),
        (not address.is_global, "a non-public"),
    )
    return next((f"{kind} address" for failed, kind in checks if failed), None)


def _embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    inner = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        inner.extend(address.teredo)
    return inner
