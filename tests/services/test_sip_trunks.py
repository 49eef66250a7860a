"""SIP trunk addresses: any written list of IP addresses is stored once, normalised."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.services.errors import InvalidInput
from ringtrail.services.sip_trunks import (
    MAX_ADDRESSES,
    checked_trunk_ref,
    source_of,
    trunk_addresses,
)

addresses = st.lists(st.ip_addresses(), min_size=1, max_size=MAX_ADDRESSES)
separators = st.sampled_from([",", ", ", " ", "\n", " ,  "])


def _written(address: IPv4Address | IPv6Address, upper: bool) -> str:
    text = str(address)
    return text.upper() if upper else text


@given(addresses, separators, st.booleans())
def test_a_stored_trunk_lists_each_address_once_in_its_normal_form(
    found: list[IPv4Address | IPv6Address], separator: str, upper: bool
) -> None:
    stored = checked_trunk_ref(separator.join(_written(a, upper) for a in found))
    expected = list(dict.fromkeys(str(a) for a in found))
    assert trunk_addresses(stored) == expected
    assert checked_trunk_ref(stored) == stored


@pytest.mark.parametrize("ref", ["", " , ", "pbx.example.com", "192.0.2.1, sip:carrier"])
def test_anything_but_ip_addresses_is_refused(ref: str) -> None:
    with pytest.raises(InvalidInput):
        checked_trunk_ref(ref)


def test_too_many_addresses_are_refused() -> None:
    with pytest.raises(InvalidInput):
        checked_trunk_ref(",".join(f"192.0.2.{n}" for n in range(MAX_ADDRESSES + 1)))


def test_the_source_of_an_event_is_its_first_address_or_nothing() -> None:
    assert source_of({"source": "192.0.2.10"}) == "192.0.2.10"
    assert source_of({"source": "not an address"}) is None
    assert source_of({"did": "380441234567"}) is None
    assert source_of(["192.0.2.10"]) is None
