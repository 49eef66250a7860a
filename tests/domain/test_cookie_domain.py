"""The visitor cookie's domain: the registrable domain per the Public Suffix List."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.cookie_domain import registrable_domain


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "example.com"),
        ("www.example.com", "example.com"),
        ("a.b.c.example.com", "example.com"),
        ("WWW.Example.COM", "example.com"),
        ("www.example.com.", "example.com"),
        ("www.example.com:8443", "example.com"),
        ("shop.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("shop.example.com.ua", "example.com.ua"),
        ("shop.example.kiev.ua", "example.kiev.ua"),
        ("example.ua", "example.ua"),
        ("www.example.com.au", "example.com.au"),
        ("shop.example.co.jp", "example.co.jp"),
        ("alice.github.io", "alice.github.io"),
        ("docs.alice.github.io", "alice.github.io"),
        ("myapp.herokuapp.com", "myapp.herokuapp.com"),
        ("shop.пример.укр", "xn--e1afmkfd.xn--j1amh"),
        ("shop.xn--e1afmkfd.xn--j1amh", "xn--e1afmkfd.xn--j1amh"),
        ("site.internal-tld", "site.internal-tld"),
    ],
)
def test_cookie_domain_is_the_registrable_domain(host: str, expected: str) -> None:
    assert registrable_domain(host) == expected


@pytest.mark.parametrize(
    "host",
    [
        "co.uk",
        "com.ua",
        "kiev.ua",
        "com",
        "github.io",
        "herokuapp.com",
        "localhost",
        "localhost:8000",
        "127.0.0.1",
        "127.0.0.1:8000",
        "10.0.0.5",
        "::1",
        "[::1]:8000",
        "2001:db8::1",
        "",
        "   ",
        ".",
        "bad host.com",
        "under_score.example.com",
        "-bad.example.com",
        "a" * 64 + ".example.com",
        "x." * 200 + "com",
    ],
)
def test_public_suffixes_ip_addresses_and_non_names_get_a_host_only_cookie(host: str) -> None:
    assert registrable_domain(host) is None


def test_the_two_label_shortcut_would_be_wrong_here() -> None:
    host = "shop.example.co.uk"
    assert ".".join(host.split(".")[-2:]) == "co.uk"
    assert registrable_domain(host) == "example.co.uk"


@given(st.text(max_size=300))
def test_any_text_never_raises(host: str) -> None:
    result = registrable_domain(host)
    assert result is None or (result.isascii() and "." in result)
