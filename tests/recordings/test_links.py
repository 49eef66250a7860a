"""Signed recording links: they name one recording, expire, and refuse any change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringtrail.recordings.links import (
    LinkExpired,
    LinkInvalid,
    issue_link,
    sign_link,
    verify_link,
)
from tests.recordings.rows import T0

SECRET = "instance-secret"


def test_a_link_grants_its_recording_until_it_expires() -> None:
    link = issue_link(SECRET, 42, T0, 900)
    assert link.expires_at == T0 + timedelta(seconds=900)
    assert verify_link(SECRET, link.token, T0) == 42
    assert verify_link(SECRET, link.token, T0 + timedelta(seconds=899)) == 42


def test_a_link_is_refused_from_its_expiry_on() -> None:
    link = issue_link(SECRET, 42, T0, 900)
    for late in (timedelta(seconds=900), timedelta(days=30)):
        with pytest.raises(LinkExpired):
            verify_link(SECRET, link.token, T0 + late)


def test_changing_the_recording_or_the_expiry_breaks_the_signature() -> None:
    recording, expires, signature = issue_link(SECRET, 42, T0, 900).token.split(".")
    later = str(int(expires) + 86_400)
    for forged in (f"43.{expires}.{signature}", f"{recording}.{later}.{signature}"):
        with pytest.raises(LinkInvalid):
            verify_link(SECRET, forged, T0)


def test_a_tampered_signature_is_refused_even_when_expired() -> None:
    token = issue_link(SECRET, 42, T0, 900).token
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(LinkInvalid):
        verify_link(SECRET, flipped, T0 + timedelta(days=1))


def test_another_instance_key_does_not_verify_the_link() -> None:
    token = issue_link(SECRET, 42, T0, 900).token
    with pytest.raises(LinkInvalid):
        verify_link("another-secret", token, T0)


@pytest.mark.parametrize(
    "token", ["", "42", "42.1700000000", "x.1.abc", "042.1.abc", "42.-1." + "A" * 43, "a" * 200]
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(LinkInvalid):
        verify_link(SECRET, token, T0)


def test_links_are_url_safe_and_the_same_inputs_give_the_same_token() -> None:
    first = sign_link(SECRET, 7, T0)
    assert first.token == sign_link(SECRET, 7, T0).token
    assert all(c.isalnum() or c in "._-" for c in first.token)
