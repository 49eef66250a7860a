"""Signed, expiring recording links: the only way audio leaves Ringtrail.

A token is `<recording id>.<expiry, Unix seconds>.<signature>`, the signature an HMAC-SHA256
of the first two parts under a key derived from the instance's secret key (so a link cannot
be confused with a session or a visitor token). Anyone holding the token may fetch the audio
until it expires; the API hands tokens only to members of the call's project. Checks are
constant-time; the signature is checked before the expiry, so a forged token never learns
whether its time was right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_PURPOSE = b"ringtrail.recording-link.v1"
_TOKEN = re.compile(r"([1-9][0-9]{0,18})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})")


class LinkInvalid(Exception):
    """The token is malformed or its signature does not match: refused (403)."""


class LinkExpired(Exception):
    """The token is genuine but its time is up (410)."""


@dataclass(frozen=True)
class RecordingLink:
    """A signed token for one recording and the moment it stops working."""

    recording_id: int
    token: str
    expires_at: datetime


def _signature(secret: str, message: str) -> str:
    key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_link(secret: str, recording_id: int, expires_at: datetime) -> RecordingLink:
    """A token for `recording_id` valid until `expires_at` (rounded down to the second)."""
    if recording_id < 1:
        raise ValueError("recording ids are positive")
    expires = int(expires_at.timestamp())
    message = f"{recording_id}.{expires}"
    return RecordingLink(
        recording_id,
        f"{message}.{_signature(secret, message)}",
        datetime.fromtimestamp(expires, UTC),
    )


def issue_link(secret: str, recording_id: int, now: datetime, ttl_seconds: int) -> RecordingLink:
    """A token for `recording_id` that works for `ttl_seconds` from `now`."""
    return sign_link(secret, recording_id, now + timedelta(seconds=ttl_seconds))


def verify_link(secret: str, token: str, now: datetime) -> int:
    """The recording id a genuine, unexpired token grants; LinkInvalid or LinkExpired if not."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise LinkInvalid("malformed recording link")
    recording, expires, signature = match.groups()
    expected = _signature(secret, f"{recording}.{expires}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise LinkInvalid("recording link signature does not match")
    if now.timestamp() >= int(expires):
        raise LinkExpired("recording link has expired")
    return int(recording)
