"""The default engine: faster-whisper (Whisper on CTranslate2), run on this server.

The model is named (`small`, `medium`, `large-v3`, ...) or given as a path to a CTranslate2
Whisper directory. It is never downloaded: a name is looked up in the models directory
(`RINGTRAIL_SPEECH_MODELS_DIR`, as `<name>` or `faster-whisper-<name>`) and then in the
Hugging Face cache with `local_files_only`, and a model found nowhere is `SpeechModelMissing`
with the places looked in. int8 on CPU and float16 on a GPU unless set otherwise; `auto` uses
a GPU when CTranslate2 sees one. A loaded model is kept for the life of the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ctranslate2

from ringtrail.speech.engine import (
    AudioInput,
    EngineState,
    Progress,
    Segment,
    SpeechError,
    SpeechModelBroken,
    SpeechModelMissing,
    Transcript,
    TranscriptionEngine,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from ringtrail.settings import Settings

ENGINE_NAME = "faster-whisper"
DOCS = "docs/lead-quality.md"
MODEL_FILE = "model.bin"
DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class SpeechConfig:
    """How to find and run the model; `from_settings` reads the RINGTRAIL_SPEECH_* settings.

    `max_new_tokens` and `temperatures` bound decoding (tests use them to keep a model with
    random weights short); they are not settings.
    """

    model: str = "small"
    models_dir: Path | None = None
    device: str = "auto"
    compute_type: str = ""
    beam_size: int = 5
    vad: bool = True
    cpu_threads: int = 0
    hub_cache: Path | None = None  # the Hugging Face cache to look in; None: its default
    max_new_tokens: int | None = None
    temperatures: tuple[float, ...] = field(default=DEFAULT_TEMPERATURES)

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeechConfig:
        """The configuration the settings give."""
        return cls(
            model=settings.speech_model,
            models_dir=settings.speech_models_dir,
            device=settings.speech_device,
            compute_type=settings.speech_compute_type,
            beam_size=settings.speech_beam_size,
            vad=settings.speech_vad,
        )

    def resolved_device(self) -> str:
        """`cpu` or `cuda`: `auto` is a GPU when CTranslate2 sees one."""
        if self.device != "auto":
            return self.device
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def resolved_compute_type(self) -> str:
        """The compute type set, else int8 on CPU and float16 on a GPU."""
        if self.compute_type:
            return self.compute_type
        return "float16" if self.resolved_device() == "cuda" else "int8"


def _missing(config: SpeechConfig, looked: list[str]) -> SpeechModelMissing:
    return SpeechModelMissing(
        f"speech model {config.model!r} is not installed: see {DOCS}"
        f" (looked in {', '.join(looked)})"
    )


def find_model(config: SpeechConfig) -> Path:
    """The directory of the configured model on this machine; never downloads anything."""
    given = Path(config.model).expanduser()
    looked: list[str] = []
    candidates = [given] if given.is_absolute() or given.is_dir() else []
    if config.models_dir is not None and not given.is_absolute():
        candidates += [
            config.models_dir / config.model,
            config.models_dir / f"faster-whisper-{config.model}",
        ]
    for candidate in candidates:
        looked.append(str(candidate))
        if candidate.is_dir():
            if not (candidate / MODEL_FILE).is_file():
                raise SpeechModelBroken(
                    f"speech model directory {candidate} has no {MODEL_FILE}:"
                    f" it is not a CTranslate2 Whisper model (see {DOCS})"
                )
            return candidate
    if given.is_absolute():
        raise _missing(config, looked)
    looked.append("the Hugging Face cache")
    try:
        from faster_whisper.utils import download_model

        # local_files_only: a name resolves to a copy already in the cache, or fails here.
        return Path(
            download_model(
                config.model,
                local_files_only=True,
                cache_dir=str(config.hub_cache) if config.hub_cache else None,
            )
        )
    except Exception as exc:
        raise _missing(config, looked) from exc


class FasterWhisperEngine(TranscriptionEngine):
    """faster-whisper with the model of `config`, loaded on first use."""

    name = ENGINE_NAME

    def __init__(self, config: SpeechConfig) -> None:
        self.config = config
        self.model_name = config.model
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    def load(self) -> WhisperModel:
        """The loaded model (loading it the first time)."""
        with self._lock:
            if self._model is None:
                path = find_model(self.config)
                try:
                    from faster_whisper import WhisperModel

                    self._model = WhisperModel(
                        str(path),
                        device=self.config.resolved_device(),
                        compute_type=self.config.resolved_compute_type(),
                        cpu_threads=self.config.cpu_threads,
                        local_files_only=True,
                    )
                except Exception as exc:
                    raise SpeechModelBroken(
                        f"speech model {self.config.model!r} at {path} could not be loaded:"
                        f" {type(exc).__name__}: {exc} (see {DOCS})"
                    ) from exc
            return self._model

    def located(self) -> EngineState:
        """Whether the model is installed, without loading it (cheap, for status pages)."""
        device = f"{self.config.resolved_device()}, {self.config.resolved_compute_type()}"
        if self._model is not None:
            return self.state()
        try:
            path = find_model(self.config)
        except SpeechError as exc:
            return EngineState(False, self.name, self.config.model, str(exc))
        return EngineState(True, self.name, self.config.model, f"model found at {path} ({device})")

    def state(self) -> EngineState:
        """Ready when the model loads; otherwise the reason in words."""
        device = f"{self.config.resolved_device()}, {self.config.resolved_compute_type()}"
        try:
            model = self.load()
        except SpeechError as exc:
            return EngineState(False, self.name, self.config.model, str(exc))
        languages = "multilingual" if model.model.is_multilingual else "English only"
        return EngineState(
            True, self.name, self.config.model, f"model loaded on {device} ({languages})"
        )

    def transcribe(
        self,
        audio: AudioInput,
        *,
        language: str | None = None,
        speaker: str = "",
        progress: Progress | None = None,
    ) -> Transcript:
        """Transcribe mono audio; `progress` hears the share of the audio done so far."""
        model = self.load()
        options: dict[str, Any] = {
            "language": language or None,
            "beam_size": self.config.beam_size,
            "vad_filter": self.config.vad,
            "temperature": list(self.config.temperatures),
            "condition_on_previous_text": False,
        }
        if self.config.max_new_tokens is not None:
            options["max_new_tokens"] = self.config.max_new_tokens
        source = str(audio) if isinstance(audio, Path) else audio
        try:
            pieces, info = model.transcribe(source, **options)
            segments: list[Segment] = []
            for piece in pieces:
                text = piece.text.strip()
                if text:
                    segments.append(Segment(speaker, float(piece.start), float(piece.end), text))
                if progress is not None and info.duration:
                    progress(min(float(piece.end) / float(info.duration), 1.0))
        except SpeechError:
            raise
        except ValueError as exc:  # an unknown language code, for one
            raise SpeechError(f"transcription refused: {exc}") from exc
        if progress is not None:
            progress(1.0)
        return Transcript(
            language=info.language, duration=float(info.duration), segments=tuple(segments)
        )


_engines: dict[SpeechConfig, FasterWhisperEngine] = {}
_engines_lock = threading.Lock()


def engine_for(config: SpeechConfig) -> FasterWhisperEngine:
    """One engine (and one loaded model) per configuration in this process."""
    with _engines_lock:
        engine = _engines.get(config)
        if engine is None:
            engine = _engines[config] = FasterWhisperEngine(config)
        return engine


def forget_engines() -> None:
    """Drop the loaded models (after the settings change, and between tests)."""
    with _engines_lock:
        _engines.clear()
