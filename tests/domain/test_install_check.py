"""The installation check's judgement of a page: the tag, its key and server, the numbers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.install_check import (
    PageVerdict,
    TagVerdict,
    judge_page,
    number_in_runs,
    read_page,
)

SERVER = "https://track.example.com"
KEY = "pk_right"
PAGE = "https://shop.example/contacts"


def page(head: str = "", body: str = "") -> str:
    return f"<!doctype html><html><head><title>Shop</title>{head}</head><body>{body}</body></html>"


def tag(key: str = KEY, server: str = SERVER, name: str = "t.js") -> str:
    return f'<script async src="{server}/{name}" data-key="{key}"></script>'


def verdict(html: str, originals: tuple[str, ...] = ("+380441234567",)) -> PageVerdict:
    return judge_page(
        PAGE,
        read_page(html, PAGE),
        key=KEY,
        server_url=SERVER,
        allowed_domains=("shop.example",),
        originals=originals,
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (page(tag()), TagVerdict.OK),
        (page(tag(name="t.min.js")), TagVerdict.OK),
        (page(body=tag(server="https://track.example.com:443")), TagVerdict.OK),
        (page(tag(key="pk_other")), TagVerdict.WRONG_KEY),
        (page(tag(server="https://old-tracker.example")), TagVerdict.OTHER_SERVER),
        (page(tag(server="http://track.example.com")), TagVerdict.OTHER_SERVER),
        (page('<script src="/app.js"></script>'), TagVerdict.MISSING),
        (page(), TagVerdict.MISSING),
        # a wrong tag beside the right one does not hide it
        (page(tag(key="pk_other") + tag()), TagVerdict.OK),
    ],
)
def test_the_tag_is_judged_by_its_key_and_server(html: str, expected: TagVerdict) -> None:
    assert verdict(html).tag is expected


def test_a_relative_tag_is_read_against_the_page_address() -> None:
    html = page('<script async src="/t.js" data-key="pk_right"></script>')
    found = judge_page(
        "https://track.example.com/landing",
        read_page(html, "https://track.example.com/landing"),
        key=KEY,
        server_url=SERVER,
        allowed_domains=("track.example.com",),
        originals=(),
    )
    assert found.tag is TagVerdict.OK
    assert found.tag_found is not None and found.tag_found.src == f"{SERVER}/t.js"


def test_numbers_are_found_in_text_links_and_labels_but_not_in_scripts() -> None:
    html = page(
        body=(
            "<p>Call (044) 123-45-67</p>"
            '<a href="tel:+380447654321">Sales</a>'
            '<span aria-label="+380 44 555 00 01"></span>'
            '<script>var hidden = "+380445559999";</script>'
        )
    )
    found = verdict(html, ("+380441234567", "+380447654321", "+380445550001", "+380445559999"))
    assert [(n.number, n.found) for n in found.numbers] == [
        ("+380441234567", True),
        ("+380447654321", True),
        ("+380445550001", True),
        ("+380445559999", False),
    ]


def test_the_page_domain_is_checked_with_subdomains() -> None:
    html = page(tag())
    for url, allowed in (
        ("https://www.shop.example/", True),
        ("https://shop.example/", True),
        ("https://evilshop.example/", False),
    ):
        found = judge_page(
            url,
            read_page(html, url),
            key=KEY,
            server_url=SERVER,
            allowed_domains=("shop.example",),
            originals=(),
        )
        assert found.domain_allowed is allowed, url


def test_a_number_inside_a_longer_group_is_not_taken_for_it() -> None:
    assert number_in_runs("+380441234567", ("0441234567",))
    assert not number_in_runs("+380441234567", ("90441234567",))
    assert not number_in_runs("+380441234567", ("04412345678",))


UKRAINIAN = ["+380441234567", "+380671112233", "+380322456789"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


@given(st.sampled_from(UKRAINIAN), st.sampled_from(FORMATS), st.sampled_from(["", "Tel. ", "☎ "]))
def test_any_way_people_write_a_number_is_found(number: str, form: int, before: str) -> None:
    written = phonenumbers.format_number(phonenumbers.parse(number), form)
    html = page(body=f"<p>{before}{written}</p>")
    assert read_page(html, PAGE).digit_runs
    assert number_in_runs(number, read_page(html, PAGE).digit_runs)
    others = [other for other in UKRAINIAN if other != number]
    assert not any(number_in_runs(other, read_page(html, PAGE).digit_runs) for other in others)
