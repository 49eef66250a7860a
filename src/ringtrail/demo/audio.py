"""The demo's call recording: a few seconds of synthesised telephone audio, made on the spot.

The demo ships no audio file and fetches none; every demo recording points at this one
sample, written into the recordings store when the demo database is built, so the audio
player and the signed links work on demo data.
"""

from __future__ import annotations

import io
import math
import struct
import wave

DEMO_RECORDING_KEY = "demo/sample-call.wav"
SAMPLE_RATE = 8000
_TONES = (  # (seconds, frequencies in Hz): two rings of a ringback tone, then a two-tone chime
    (1.0, (425.0,)),
    (0.5, ()),
    (1.0, (425.0,)),
    (0.5, ()),
    (0.4, (660.0, 880.0)),
    (0.4, (880.0, 1100.0)),
)


def demo_recording_wav() -> bytes:
    """The sample as 8 kHz, 16-bit mono WAV (about 60 KB), the same bytes every time."""
    frames = bytearray()
    for seconds, frequencies in _TONES:
        for n in range(int(seconds * SAMPLE_RATE)):
            value = sum(math.sin(2 * math.pi * f * n / SAMPLE_RATE) for f in frequencies)
            level = value / len(frequencies) if frequencies else 0.0
            frames += struct.pack("<h", int(level * 0.3 * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
