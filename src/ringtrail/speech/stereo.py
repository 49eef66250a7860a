"""Two-sided calls: split a dual-channel recording into caller and business, transcribe each
side, and merge the segments by time with speaker labels.

Which side is on which channel. Our Twilio set-up records with
`<Dial record="record-from-answer-dual">` (telephony/twilio.py). The protocols reference
(section 5) lists that mode and the `RecordingChannels` field but not the channel order;
Twilio's <Dial> documentation gives it: the parent call leg on the first (left) channel, the
dialled (child) leg on the second (right). The parent leg is the caller's inbound call and
the dialled leg the business line, so channel 1 is the caller and channel 2 the business
(from the documentation; not checked against a live Twilio recording here). Providers whose
order we do not know get the same assumption; `CHANNEL_SPEAKERS` is the one place to change it.
A mono recording is one mixed track: its segments carry the speaker "mixed".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ringtrail.speech.audio import decode_channels, duration_of
from ringtrail.speech.engine import (
    Progress,
    Samples,
    Segment,
    Transcript,
    TranscriptionEngine,
    merge_by_time,
)

CALLER = "caller"
BUSINESS = "business"
MIXED = "mixed"
CHANNEL_SPEAKERS: Mapping[str, tuple[str, str]] = {"twilio": (CALLER, BUSINESS)}
DEFAULT_SPEAKERS = (CALLER, BUSINESS)
SILENCE_RMS = 1e-4  # a channel quieter than this throughout holds nobody's speech


def speakers_for(provider: str | None) -> tuple[str, str]:
    """The speakers of the first and second channel of a provider's dual-channel recording."""
    return CHANNEL_SPEAKERS.get(provider or "", DEFAULT_SPEAKERS)


def is_silent(samples: Samples) -> bool:
    """Whether a channel holds no sound worth transcribing."""
    return samples.size == 0 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS


def transcribe_channels(
    engine: TranscriptionEngine,
    channels: list[Samples],
    *,
    provider: str | None = None,
    language: str | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe each channel with its speaker and merge; one channel is a mixed track."""
    speakers = speakers_for(provider) if len(channels) == 2 else (MIXED,)
    duration = max((duration_of(samples) for samples in channels), default=0.0)
    parts: list[tuple[Segment, ...]] = []
    detected = language
    for index, (samples, speaker) in enumerate(zip(channels, speakers, strict=False)):
        if is_silent(samples):
            continue

        def report(fraction: float, index: int = index) -> None:
            if progress is not None:
                progress((index + min(max(fraction, 0.0), 1.0)) / len(speakers))

        side = engine.transcribe(samples, language=detected, speaker=speaker, progress=report)
        # Both sides speak one conversation: the first side's language is the hint for the other.
        detected = detected or side.language
        parts.append(side.segments)
    if progress is not None:
        progress(1.0)
    return Transcript(language=detected, duration=duration, segments=merge_by_time(parts))


def transcribe_file(
    engine: TranscriptionEngine,
    path: Path,
    *,
    provider: str | None = None,
    language: str | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Decode a recording file and transcribe it, split by side when it has two channels."""
    return transcribe_channels(
        engine, decode_channels(path), provider=provider, language=language, progress=progress
    )
