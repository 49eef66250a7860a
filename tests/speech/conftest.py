"""Fixtures for speech tests: the tiny Whisper (built once per session) and an engine on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrail.speech.faster_whisper_engine import FasterWhisperEngine, SpeechConfig, forget_engines
from tests.speech.tiny_whisper import build_tiny_whisper


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised Whisper in CTranslate2 format with a local tokenizer."""
    return build_tiny_whisper(tmp_path_factory.mktemp("speech") / "tiny-whisper")


def tiny_config(model: Path, **values: object) -> SpeechConfig:
    """Settings for the tiny model: CPU int8, no VAD, decoding kept short."""
    base: dict[str, object] = {
        "model": str(model),
        "device": "cpu",
        "compute_type": "int8",
        "beam_size": 1,
        "vad": False,
        "max_new_tokens": 6,
        "temperatures": (0.0,),
        "cpu_threads": 1,
    }
    base.update(values)
    return SpeechConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
def tiny_engine(tiny_model: Path) -> Iterator[FasterWhisperEngine]:
    """The real faster-whisper engine on the tiny model."""
    yield FasterWhisperEngine(tiny_config(tiny_model))
    forget_engines()
