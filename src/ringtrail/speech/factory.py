"""The speech engine the settings ask for (None when transcription is switched off)."""

from __future__ import annotations

from ringtrail.settings import Settings
from ringtrail.speech.engine import EngineState, TranscriptionEngine
from ringtrail.speech.faster_whisper_engine import (
    ENGINE_NAME,
    FasterWhisperEngine,
    SpeechConfig,
    engine_for,
)

OFF = "none"


def make_engine(settings: Settings) -> TranscriptionEngine | None:
    """The configured engine, shared within the process; None for RINGTRAIL_SPEECH_ENGINE=none."""
    if settings.speech_engine == OFF:
        return None
    return engine_for(SpeechConfig.from_settings(settings))


def engine_state(settings: Settings, *, load: bool = True) -> EngineState:
    """Whether transcription can run here, in words; `load`: load the model to be sure,
    else only look for it (for pages a web process shows: it need not hold the model)."""
    engine = make_engine(settings)
    if engine is None:
        return EngineState(
            False,
            OFF,
            settings.speech_model,
            "transcription is switched off (RINGTRAIL_SPEECH_ENGINE=none);"
            " transcripts imported from a provider are still kept",
        )
    if not load and isinstance(engine, FasterWhisperEngine):
        return engine.located()
    return engine.state()


__all__ = ["ENGINE_NAME", "OFF", "engine_state", "make_engine"]
