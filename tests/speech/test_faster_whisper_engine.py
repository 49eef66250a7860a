"""The faster-whisper engine on a tiny Whisper built in the test: the real code path, from a
WAV file to segments, with no network; and the errors for a model that is missing or broken."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ringtrail.speech.engine import SpeechModelBroken, SpeechModelMissing
from ringtrail.speech.faster_whisper_engine import (
    FasterWhisperEngine,
    SpeechConfig,
    engine_for,
    find_model,
    forget_engines,
)
from tests.speech.audio_files import tone, write_wav
from tests.speech.conftest import tiny_config
from tests.speech.tiny_whisper import LANGUAGES


def test_the_tiny_model_transcribes_a_wav_file_with_the_language_hint(
    tiny_engine: FasterWhisperEngine, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "call.wav", tone(3.0, 440))
    heard: list[float] = []

    transcript = tiny_engine.transcribe(wav, language="ru", speaker="caller", progress=heard.append)

    assert transcript.language == "ru"
    assert transcript.duration == pytest.approx(3.0, abs=0.01)
    assert all(segment.speaker == "caller" for segment in transcript.segments)
    assert all(0 <= segment.start <= segment.end for segment in transcript.segments)
    assert heard and heard[-1] == 1.0 and heard == sorted(heard)


def test_the_tiny_model_is_multilingual_and_detects_a_language_without_a_hint(
    tiny_engine: FasterWhisperEngine, tmp_path: Path
) -> None:
    state = tiny_engine.state()
    assert state.ready, state.detail
    assert "multilingual" in state.detail and "cpu, int8" in state.detail

    transcript = tiny_engine.transcribe(tone(2.0, 300))

    assert transcript.language in LANGUAGES


def test_nothing_is_downloaded_for_a_model_name_that_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    config = SpeechConfig(model="small", models_dir=tmp_path / "models", hub_cache=tmp_path / "hub")

    with pytest.raises(SpeechModelMissing) as missing:
        find_model(config)
    state = FasterWhisperEngine(config).state()

    message = str(missing.value)
    assert message.startswith("speech model 'small' is not installed: see docs/lead-quality.md")
    assert str(tmp_path / "models" / "small") in message
    assert not state.ready and state.detail == message


def test_a_model_in_the_models_directory_is_found_by_name(tiny_model: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "faster-whisper-tiny-test").symlink_to(tiny_model, target_is_directory=True)

    found = find_model(SpeechConfig(model="tiny-test", models_dir=models, hub_cache=tmp_path))

    assert found == models / "faster-whisper-tiny-test"


def test_a_directory_without_a_model_is_called_broken(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-model"
    folder.mkdir()

    with pytest.raises(SpeechModelBroken, match=r"has no model\.bin"):
        find_model(SpeechConfig(model=str(folder)))


def test_a_damaged_model_file_is_called_broken(tiny_model: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("config.json", "vocabulary.json", "tokenizer.json"):
        (damaged / name).write_bytes((tiny_model / name).read_bytes())
    (damaged / "model.bin").write_bytes(b"not a model")

    state = FasterWhisperEngine(tiny_config(damaged)).state()

    assert not state.ready
    assert "could not be loaded" in state.detail


def test_one_engine_per_configuration_is_kept_in_the_process(tiny_model: Path) -> None:
    try:
        assert engine_for(tiny_config(tiny_model)) is engine_for(tiny_config(tiny_model))
        assert engine_for(tiny_config(tiny_model)) is not engine_for(
            tiny_config(tiny_model, beam_size=2)
        )
    finally:
        forget_engines()


def test_auto_picks_int8_on_cpu_and_float16_on_gpu() -> None:
    assert SpeechConfig(device="cpu").resolved_compute_type() == "int8"
    assert SpeechConfig(device="cuda").resolved_compute_type() == "float16"
    assert SpeechConfig(device="cuda", compute_type="int8_float16").resolved_compute_type() == (
        "int8_float16"
    )
