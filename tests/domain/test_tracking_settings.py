"""Allowed domains and swap selectors: what a project may store, and in which form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.tracking_settings import (
    MAX_SELECTORS,
    InvalidSetting,
    check_selector,
    check_selectors,
    normalize_domain,
    normalize_domains,
)

labels = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)


@given(hosts, st.sampled_from(["", " ", "."]), st.sampled_from(["", " ", "."]))
def test_a_normalised_domain_is_lower_ascii_and_stable(host: str, before: str, after: str) -> None:
    normal = normalize_domain(f"{before}{host}{after}")
    assert normal == host.lower()
    assert normalize_domain(normal) == normal


@given(st.lists(hosts, max_size=10))
def test_domain_lists_are_sorted_without_duplicates(raw: list[str]) -> None:
    assert normalize_domains(raw + [d.upper() for d in raw]) == sorted({d.lower() for d in raw})


def test_international_domains_are_stored_as_the_browser_sends_them() -> None:
    assert normalize_domain("Bücher.Example") == "xn--bcher-kva.example"
    assert normalize_domain("xn--bcher-kva.example") == "xn--bcher-kva.example"
    assert normalize_domain("127.0.0.1") == "127.0.0.1"
    assert normalize_domain("localhost") == "localhost"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://example.com", "without https://"),
        ("example.com/contacts", "without https://"),
        ("example.com:8080", "port"),
        ("*.example.com", "wildcards"),
        ("exa mple.com", "spaces"),
        ("-bad-.example", "not a valid host name"),
        ("", "empty"),
        ("a" * 64 + ".example", "not a valid host name"),
    ],
)
def test_what_is_not_a_host_name_is_refused_with_its_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidSetting, match=reason):
        normalize_domain(raw)


@pytest.mark.parametrize(
    "selector",
    [".phone", "#header a[href^='tel:']", "div > span.tel", ".md\\:flex", "a:not(.x)", "[data-p]"],
)
def test_ordinary_selectors_are_kept(selector: str) -> None:
    assert check_selector(f" {selector} ") == selector


@pytest.mark.parametrize(
    "selector", ["", ".a {color: red}", "a;b", "<b>", "> a", "a +", ".a[", "a:not(.x", "a[x='y]"]
)
def test_what_can_never_be_a_selector_is_refused(selector: str) -> None:
    with pytest.raises(InvalidSetting):
        check_selector(selector)


def test_selectors_are_limited_in_length_and_count() -> None:
    with pytest.raises(InvalidSetting, match="longer than"):
        check_selector("." + "a" * 300)
    with pytest.raises(InvalidSetting, match=f"at most {MAX_SELECTORS}"):
        check_selectors([f".s{i}" for i in range(MAX_SELECTORS + 1)])
    assert check_selectors([".a", ".b", ".a"]) == [".a", ".b"]
