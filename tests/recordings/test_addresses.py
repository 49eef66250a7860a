"""The addresses a recording fetch may connect to: public ones, and the operator's networks."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from ringtrail.recordings.addresses import AddressRules

STRICT = AddressRules()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("239.255.255.250", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("::", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("100.64.0.1", "a non-public address"),
        ("192.0.2.10", "a private address"),
        ("2001:db8::1", "a private address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a link-local address"),
        ("2002:c0a8:0101::1", "a private address inside an IPv6 address"),
        ("2002:7f00:0001::1", "a loopback address inside an IPv6 address"),
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str, kind: str) -> None:
    assert STRICT.why_refused(ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert STRICT.why_refused(ip_address(address)) is None


def test_the_operator_may_allow_networks_and_nothing_more() -> None:
    rules = AddressRules.allowing([ip_network("192.168.10.0/24"), ip_network("::1/128")])
    assert rules.why_refused(ip_address("192.168.10.7")) is None
    assert rules.why_refused(ip_address("::ffff:192.168.10.7")) is None
    assert rules.why_refused(ip_address("::1")) is None
    assert rules.why_refused(ip_address("192.168.11.7")) == "a private address"
    assert rules.why_refused(ip_address("127.0.0.1")) == "a loopback address"


def test_an_ipv6_network_never_allows_an_ipv4_address_with_the_same_bits() -> None:
    rules = AddressRules.allowing([ip_network("::/96")])
    assert rules.why_refused(ip_address("127.0.0.1")) == "a loopback address"
