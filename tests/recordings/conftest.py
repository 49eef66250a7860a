"""Fixtures for recording tests: a scripted audio host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.recordings.audio_server import AudioServer, running_audio_server


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    """A local HTTP server standing in for a provider's media host."""
    with running_audio_server() as server:
        yield server
