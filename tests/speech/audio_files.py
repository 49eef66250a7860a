"""Test helper: WAV files written with numpy and the standard library (no sox, no network)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 16_000


def tone(seconds: float, frequency: float, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """A sine with a little noise, float32 in -1..1."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).standard_normal(t.size) * 0.02
    return (0.3 * np.sin(2 * np.pi * frequency * t) + noise).astype(np.float32)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    """Digital silence."""
    return np.zeros(int(seconds * rate), np.float32)


def write_wav(path: Path, *channels: np.ndarray, rate: int = RATE) -> Path:
    """A 16-bit PCM WAV with one channel per array (interleaved)."""
    length = max(len(c) for c in channels)
    frames = np.zeros((length, len(channels)), np.float32)
    for index, channel in enumerate(channels):
        frames[: len(channel), index] = channel
    pcm = (np.clip(frames, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(len(channels))
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return path
