"""Dual-channel recordings: each side transcribed with its speaker, merged by time."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrail.speech.audio import channel_count, decode_channels
from ringtrail.speech.engine import (
    AudioInput,
    AudioUnreadable,
    EngineState,
    Progress,
    Segment,
    Transcript,
    TranscriptionEngine,
)
from ringtrail.speech.faster_whisper_engine import FasterWhisperEngine
from ringtrail.speech.stereo import BUSINESS, CALLER, MIXED, transcribe_file
from tests.speech.audio_files import silence, tone, write_wav


class Spy(TranscriptionEngine):
    """Wraps an engine and notes each side it was asked to transcribe."""

    def __init__(self, inner: TranscriptionEngine) -> None:
        self.inner = inner
        self.sides: list[tuple[str, int, str | None]] = []

    def transcribe(
        self,
        audio: AudioInput,
        *,
        language: str | None = None,
        speaker: str = "",
        progress: Progress | None = None,
    ) -> Transcript:
        self.sides.append(
            (speaker, len(audio) if not isinstance(audio, (str, Path)) else 0, language)
        )
        return self.inner.transcribe(audio, language=language, speaker=speaker, progress=progress)

    def state(self) -> EngineState:
        return self.inner.state()


class Scripted(TranscriptionEngine):
    """Says, for each speaker, the segments given (times in seconds)."""

    def __init__(self, lines: dict[str, list[tuple[float, float, str]]]) -> None:
        self.lines = lines

    def transcribe(
        self,
        audio: AudioInput,
        *,
        language: str | None = None,
        speaker: str = "",
        progress: Progress | None = None,
    ) -> Transcript:
        if progress is not None:
            progress(0.5)
            progress(1.0)
        said = tuple(Segment(speaker, a, b, text) for a, b, text in self.lines[speaker])
        return Transcript(language or "uk", 4.0, said)

    def state(self) -> EngineState:
        return EngineState(True, "scripted", "", "ready")


def test_a_two_channel_file_is_split_into_caller_and_business_on_the_real_engine(
    tiny_engine: FasterWhisperEngine, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "dual.wav", tone(2.0, 440), tone(3.0, 220, seed=1))
    spy = Spy(tiny_engine)

    transcript = transcribe_file(spy, wav, provider="twilio", language="uk")

    assert [(speaker, samples) for speaker, samples, _ in spy.sides] == [
        (CALLER, 48_000),  # a WAV's channels are equally long: the caller's side is padded
        (BUSINESS, 48_000),
    ]
    assert transcript.language == "uk"
    assert transcript.duration == pytest.approx(3.0)
    assert {s.speaker for s in transcript.segments} <= {CALLER, BUSINESS}
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)


def test_segments_of_both_sides_are_merged_in_conversation_order(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "dual.wav", tone(4.0, 440), tone(4.0, 220))
    engine = Scripted(
        {
            CALLER: [(0.0, 1.0, "Hello, do you deliver?"), (2.5, 3.0, "Great")],
            BUSINESS: [(1.2, 2.4, "Yes, tomorrow")],
        }
    )
    heard: list[float] = []

    transcript = transcribe_file(engine, wav, provider="twilio", progress=heard.append)

    assert [(s.speaker, s.text) for s in transcript.segments] == [
        (CALLER, "Hello, do you deliver?"),
        (BUSINESS, "Yes, tomorrow"),
        (CALLER, "Great"),
    ]
    assert transcript.text == "Hello, do you deliver?\nYes, tomorrow\nGreat"
    assert heard == [0.25, 0.5, 0.75, 1.0, 1.0]


def test_the_first_sides_language_is_the_hint_for_the_second(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "dual.wav", tone(1.0, 440), tone(1.0, 220))
    spy = Spy(Scripted({CALLER: [(0.0, 1.0, "Добрий день")], BUSINESS: [(0.0, 1.0, "Так")]}))

    transcribe_file(spy, wav)

    assert [language for _, _, language in spy.sides] == [None, "uk"]


def test_a_silent_side_is_not_transcribed(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "dual.wav", tone(1.0, 440), silence(1.0))
    spy = Spy(Scripted({CALLER: [(0.0, 1.0, "Hello")], BUSINESS: []}))

    transcript = transcribe_file(spy, wav)

    assert [speaker for speaker, _, _ in spy.sides] == [CALLER]
    assert [s.speaker for s in transcript.segments] == [CALLER]


def test_a_mono_recording_is_one_mixed_track(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "mono.wav", tone(1.0, 440))
    spy = Spy(Scripted({MIXED: [(0.0, 1.0, "Hello")]}))

    transcript = transcribe_file(spy, wav)

    assert channel_count(wav) == 1
    assert [s.speaker for s in transcript.segments] == [MIXED]


def test_channels_are_decoded_at_16_khz_from_another_rate(tmp_path: Path) -> None:
    wav = write_wav(
        tmp_path / "8k.wav", tone(1.0, 440, rate=8000), tone(0.5, 220, rate=8000), rate=8000
    )

    left, right = decode_channels(wav)

    assert len(left) == len(right) == 16_000  # both channels of one file are equally long
    assert float(abs(right[12_000:]).max()) < 0.01  # the right side went quiet after 0.5 s


def test_a_file_that_is_not_audio_is_unreadable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3 but not really audio" * 10)

    with pytest.raises(AudioUnreadable):
        decode_channels(junk)
