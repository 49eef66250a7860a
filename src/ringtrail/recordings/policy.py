"""Recording rules with no I/O: the fetch retry schedule, what counts as audio, storage keys.

Everything here is a pure function of its arguments (callers pass `now`), so the schedule the
jobs follow and the documentation's backoff table can be checked without a database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

# Waits after the 1st, 2nd, ... failed try; after the last one the recording has failed.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A refusal (404, 403, not audio) is rarely cured by waiting, but Twilio answers 404 for a
# few seconds after it announces a recording, so a refusal still gets three tries.
MAX_REJECTED_ATTEMPTS = 3
# How long a worker's claim on a recording lasts; a crashed worker's claim runs out after it
# and another worker tries again. Longer than any download may take (see MAX_DOWNLOAD_SECONDS).
CLAIM_TIMEOUT = timedelta(minutes=15)
MAX_DOWNLOAD_SECONDS = 300.0
MAX_RECORDING_BYTES = 200 * 1024 * 1024

OCTET_STREAM = "application/octet-stream"
_EXTENSIONS = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/webm": ".webm",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
}


class RecordingStatus(StrEnum):
    """Where a recording row stands."""

    PENDING = "pending"  # waiting for its (next) fetch, or for an upload when it has no URL
    FETCHING = "fetching"  # claimed by a worker until `next_attempt_at`
    STORED = "stored"  # the audio is in the store under `storage_key`
    FAILED = "failed"  # given up; `error` says why
    DELETED = "deleted"  # the retention period ran out and the audio was deleted


class FailureKind(StrEnum):
    """How a failed download counts towards giving up."""

    TRANSIENT = "transient"  # network error, timeout, 5xx, 429: worth waiting for
    REJECTED = "rejected"  # 4xx or not audio: a few more tries, then give up
    PERMANENT = "permanent"  # too large, unusable URL: give up now


_LIMITS = {
    FailureKind.TRANSIENT: MAX_ATTEMPTS,
    FailureKind.REJECTED: MAX_REJECTED_ATTEMPTS,
    FailureKind.PERMANENT: 1,
}


def retry_at(attempts: int, kind: FailureKind, now: datetime) -> datetime | None:
    """When to try again after the `attempts`-th try failed this way; None means give up."""
    if attempts >= _LIMITS[kind]:
        return None
    return now + BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def claim_expires_at(now: datetime) -> datetime:
    """Until when a claim made at `now` keeps other workers off the recording."""
    return now + CLAIM_TIMEOUT


def base_content_type(header: str | None) -> str:
    """The media type of a Content-Type header, lower case, without parameters ('' if none)."""
    return (header or "").split(";", 1)[0].strip().lower()


def is_accepted_type(content_type: str) -> bool:
    """Whether a download or upload of this media type may be kept as a recording."""
    return content_type.startswith("audio/") or content_type == OCTET_STREAM


def sniff_audio_type(head: bytes) -> str | None:
    """The audio type the first bytes of a file announce, when they are a known format."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    return None


def settle_content_type(declared: str, head: bytes) -> str:
    """The type to keep: the declared audio type, or what the bytes show for a generic one."""
    if declared.startswith("audio/"):
        return declared
    return sniff_audio_type(head) or OCTET_STREAM


def extension_for(content_type: str) -> str:
    """A file extension for a media type (`.bin` for one that is not known audio)."""
    return _EXTENSIONS.get(content_type, ".bin")


def recording_key(
    project_id: int | None, call_id: int, recording_id: int, version: str, content_type: str
) -> str:
    """The storage key of one stored version of a recording.

    `version` differs for each fetch attempt (its number) and each upload (a random tag), so
    a worker whose claim ran out can never overwrite (or delete) the audio a later one stored.
    """
    owner = f"p{project_id}" if project_id is not None else "unassigned"
    return f"{owner}/c{call_id}/r{recording_id}-{version}{extension_for(content_type)}"


def retention_deadline(started_at: datetime, retention_days: int | None) -> datetime | None:
    """When a call's audio is deleted under a retention of `retention_days` (None: never)."""
    return None if retention_days is None else started_at + timedelta(days=retention_days)
