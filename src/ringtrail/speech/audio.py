"""Decoding recordings into 16 kHz float samples, one array per channel (PyAV under the hood).

Recordings come as MP3, WAV, OGG and the like; `faster_whisper.decode_audio` resamples them to
what Whisper expects. A two-channel file is split rather than mixed, so each side of a call can
be transcribed on its own (speech/stereo.py).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from faster_whisper.audio import decode_audio

from ringtrail.speech.engine import SAMPLE_RATE, AudioUnreadable, Samples


def channel_count(path: Path) -> int:
    """How many channels the file's first audio stream has."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = container.streams.audio
            if not streams:
                raise AudioUnreadable("the recording has no audio stream")
            return int(streams[0].codec_context.channels)
    except AudioUnreadable:
        raise
    except Exception as exc:
        raise AudioUnreadable(f"the recording could not be read as audio: {exc}") from exc


def decode_channels(path: Path) -> list[Samples]:
    """The file's audio at 16 kHz: two arrays for a stereo file, one otherwise (mixed down)."""
    stereo = channel_count(path) == 2
    try:
        decoded = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=stereo)
    except Exception as exc:
        raise AudioUnreadable(f"the recording could not be decoded: {exc}") from exc
    if stereo:
        left, right = decoded
        return [np.asarray(left, np.float32), np.asarray(right, np.float32)]
    return [np.asarray(decoded, np.float32)]


def duration_of(samples: Samples) -> float:
    """Seconds of audio in 16 kHz samples."""
    return float(len(samples)) / SAMPLE_RATE
