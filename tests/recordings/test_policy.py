"""The fetch schedule and the audio rules, and the docs' backoff table kept in step."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ringtrail.recordings.policy import (
    BACKOFF,
    MAX_ATTEMPTS,
    MAX_REJECTED_ATTEMPTS,
    FailureKind,
    is_accepted_type,
    recording_key,
    retry_at,
    settle_content_type,
    sniff_audio_type,
)
from tests.recordings.rows import T0

DOCS = Path(__file__).parents[2] / "docs" / "recordings.md"


def test_transient_failures_back_off_1m_5m_30m_2h_12h_then_give_up() -> None:
    waits = [retry_at(attempt, FailureKind.TRANSIENT, T0) for attempt in range(1, 7)]
    assert waits[:5] == [T0 + wait for wait in BACKOFF]
    assert (
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    ) == BACKOFF
    assert waits[5] is None and MAX_ATTEMPTS == 6


def test_a_refusal_gets_three_tries_and_a_permanent_failure_one() -> None:
    rejected = [retry_at(attempt, FailureKind.REJECTED, T0) for attempt in (1, 2, 3)]
    assert rejected == [T0 + BACKOFF[0], T0 + BACKOFF[1], None]
    assert MAX_REJECTED_ATTEMPTS == 3
    assert retry_at(1, FailureKind.PERMANENT, T0) is None


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("audio/mpeg", True),
        ("audio/x-wav", True),
        ("application/octet-stream", True),
        ("text/html", False),
        ("application/json", False),
        ("", False),
    ],
)
def test_only_audio_or_generic_bytes_are_accepted(content_type: str, accepted: bool) -> None:
    assert is_accepted_type(content_type) is accepted


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x00", "audio/mpeg"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"<html>", None),
    ],
)
def test_generic_bytes_are_recognised_by_their_first_bytes(head: bytes, kind: str | None) -> None:
    assert sniff_audio_type(head) == kind
    assert settle_content_type("application/octet-stream", head) == (
        kind or "application/octet-stream"
    )
    assert settle_content_type("audio/ogg", head) == "audio/ogg"


def test_keys_are_per_project_call_recording_and_version() -> None:
    assert recording_key(5, 6, 7, "2", "audio/mpeg") == "p5/c6/r7-2.mp3"
    assert recording_key(None, 6, 7, "u1a2b", "audio/wav") == "unassigned/c6/r7-u1a2b.wav"
    assert recording_key(5, 6, 7, "1", "application/octet-stream").endswith(".bin")


def test_the_docs_backoff_table_matches_the_schedule() -> None:
    text = DOCS.read_text(encoding="utf-8")
    shown = {timedelta(minutes=1): "1 min", timedelta(minutes=5): "5 min"}
    shown |= {timedelta(minutes=30): "30 min", timedelta(hours=2): "2 h"}
    shown |= {timedelta(hours=12): "12 h"}
    for attempt, wait in enumerate(BACKOFF, start=1):
        assert f"| {attempt} | {shown[wait]} |" in text, attempt
    assert f"| {MAX_ATTEMPTS} | failed |" in text
