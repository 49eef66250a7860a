"""The transcription engine interface: audio in, a transcript with speakers and times out.

An engine takes a path to an audio file or 16 kHz mono samples, an optional language hint
("en", "ru", "uk", ...; None: detect) and an optional progress callback (0..1), and returns a
`Transcript`. Engines raise `SpeechModelMissing` or `SpeechModelBroken` when their model cannot
be used (a setting to fix, so the job keeps the transcript and retries) and `AudioUnreadable`
when the audio itself cannot be decoded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
Samples = npt.NDArray[np.float32]
Progress = Callable[[float], None]
AudioInput = Path | str | Samples


class SpeechError(Exception):
    """Transcription could not run; the text says why in words a user can act on."""


class SpeechModelMissing(SpeechError):
    """The configured speech model is not installed on this machine."""


class SpeechModelBroken(SpeechError):
    """The configured speech model is there but could not be loaded."""


class AudioUnreadable(SpeechError):
    """The recording could not be decoded as audio."""


@dataclass(frozen=True)
class Segment:
    """One stretch of speech: who spoke (`speaker`), from `start` to `end` seconds, what."""

    speaker: str
    start: float
    end: float
    text: str

    def as_json(self) -> dict[str, Any]:
        """The segment as stored and served: speaker, start, end, text."""
        return {
            "speaker": self.speaker,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "text": self.text,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Segment:
        """A segment from its stored form."""
        return cls(
            str(value.get("speaker") or ""),
            float(value["start"]),
            float(value["end"]),
            str(value["text"]),
        )


@dataclass(frozen=True)
class Transcript:
    """What was said in a recording: the language, the audio's length and the segments."""

    language: str | None
    duration: float
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """All segments' text, in order, one line each (what search looks in)."""
        return "\n".join(segment.text for segment in self.segments if segment.text)


def merge_by_time(parts: Iterable[Iterable[Segment]]) -> tuple[Segment, ...]:
    """Segments of several speakers in one conversation order (by start, then end)."""
    merged = [segment for part in parts for segment in part]
    return tuple(sorted(merged, key=lambda s: (s.start, s.end, s.speaker)))


@dataclass(frozen=True)
class EngineState:
    """Whether an engine can transcribe now, and in words why not."""

    ready: bool
    engine: str
    model: str
    detail: str


class TranscriptionEngine(ABC):
    """Turns audio into a `Transcript`. Implementations must be safe to reuse across calls."""

    name: str = "engine"
    model_name: str = ""

    @abstractmethod
    def transcribe(
        self,
        audio: AudioInput,
        *,
        language: str | None = None,
        speaker: str = "",
        progress: Progress | None = None,
    ) -> Transcript:
        """Transcribe mono `audio`, labelling every segment `speaker`."""

    @abstractmethod
    def state(self) -> EngineState:
        """Whether the model is there and loads, without transcribing anything."""
