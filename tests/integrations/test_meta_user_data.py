"""Meta's normalisation and hashing: Meta's test vector, agreement with Meta's own SDK on every
E.164 number and email, and one hash per number however it is written."""

from __future__ import annotations

import re

import phonenumbers
from facebook_business.adobjects.serverside.normalize import Normalize
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.integrations.meta_user_data import (
    hashed_email,
    hashed_external_id,
    hashed_phone,
    normalise_phone,
    sha256_hex,
    user_data,
)

VECTOR = "254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4"
E164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
REGIONS_WITH_EXAMPLES = sorted(
    region
    for region in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
)


def test_metas_own_example_hashes_to_the_documented_digest() -> None:
    assert sha256_hex("12345678901") == VECTOR
    assert hashed_phone("+12345678901") == VECTOR
    assert hashed_phone("+1 (234) 567-8901") == VECTOR


def test_national_forms_are_read_in_the_projects_country() -> None:
    assert normalise_phone("050 123 45 67", "UA") == "380501234567"
    assert normalise_phone("00380501234567") == "380501234567"
    assert normalise_phone("380501234567") == "380501234567"


def test_what_is_not_a_number_gives_nothing() -> None:
    for raw in ("", "anonymous", "Restricted", "+", "0", "+0123456789", None):
        assert hashed_phone(raw) is None


@given(E164)
def test_every_e164_number_hashes_as_metas_sdk_hashes_it(number: str) -> None:
    assert hashed_phone(number) == Normalize.normalize_field("ph", number)


@given(
    st.sampled_from(REGIONS_WITH_EXAMPLES),
    st.sampled_from(["INTERNATIONAL", "NATIONAL", "E164", "RFC3966"]),
)
def test_one_number_written_any_way_has_one_hash(region: str, style: str) -> None:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(number, getattr(phonenumbers.PhoneNumberFormat, style))
    assert hashed_phone(written, region) == hashed_phone(e164) == sha256_hex(e164[1:])


@given(st.text(max_size=40), st.sampled_from(["UA", "US", "RU", "DE", ""]))
def test_any_text_gives_a_sha256_or_nothing_and_never_raises(raw: str, country: str) -> None:
    found = hashed_phone(raw, country or None)
    assert found is None or re.fullmatch(r"[0-9a-f]{64}", found)


@given(st.emails())
def test_every_email_hashes_as_metas_sdk_hashes_it(email: str) -> None:
    assert hashed_email(f"  {email.upper()} ") == Normalize.normalize_field("em", email)


def test_an_external_id_is_hashed_once() -> None:
    digest = sha256_hex("person-42")
    assert hashed_external_id("person-42") == digest
    assert hashed_external_id(digest.upper()) == digest
    assert hashed_external_id(42) == sha256_hex("42")
    assert hashed_external_id("") is None
    assert hashed_external_id(True) is None


def test_fbc_and_fbp_pass_unhashed_and_junk_is_dropped() -> None:
    found = user_data(fbc="fb.1.1596403881668.IwAR-x", fbp="fb.1.1596403881668.1116446470")
    assert found == {"fbc": "fb.1.1596403881668.IwAR-x", "fbp": "fb.1.1596403881668.1116446470"}
    assert user_data(fbc="IwAR-x", fbp="1116446470", email="not an email") == {}
