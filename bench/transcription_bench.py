# ruff: noqa: RUF001 (Russian and Ukrainian sentences)
"""Transcription speed relative to audio length, with the default CPU model, on speech made here.

    python bench/transcription_bench.py [--model small] [--device cpu] [--beam 5]
                                        [--seconds 60] [--audio FILE ...]

It uses the model the settings name (RINGTRAIL_SPEECH_MODEL, `small` by default; `--model`
overrides), found the way the product finds it and never downloaded. Without an installed
model it prints "not measured: no speech model installed", says how to install one, and exits
0: the figure is then not measured on this machine.

Speech is made here with espeak-ng (English, Russian and Ukrainian sentences, about
`--seconds` of each language) and turned into a phone-like call with sox: 8 kHz, the caller
on the left channel and the business on the right, as Twilio records dual-channel. Each call
goes through the product's own path (`speech.stereo.transcribe_file` on the
faster-whisper engine) and the bench prints, per language, the audio length, the wall time,
the real-time factor (audio seconds per second of processing; above 1 is faster than the call
lasted) and the word error rate against the text spoken (synthetic speech is clearer than a
phone line: treat it as a floor). `--audio` measures your own recordings instead.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ringtrail.settings import Settings
from ringtrail.speech.engine import SpeechError
from ringtrail.speech.faster_whisper_engine import FasterWhisperEngine, SpeechConfig, find_model
from ringtrail.speech.stereo import transcribe_file

SENTENCES = {
    "en": (
        "Hello, I saw your advert and I would like to know the price of a new roof.",
        "Yes, of course. What is the size of the house and where is it?",
        "It is a two storey house in the city centre, about one hundred square metres.",
        "Then the price starts at four thousand dollars. Can we come on Tuesday?",
    ),
    "ru": (
        "Здравствуйте, я видел вашу рекламу и хотел узнать цену на ремонт крыши.",
        "Да, конечно. Какая площадь дома и где он находится?",
        "Это двухэтажный дом в центре города, около ста квадратных метров.",
        "Тогда цена начинается от четырёх тысяч долларов. Можем приехать во вторник?",
    ),
    "uk": (
        "Добрий день, я бачив вашу рекламу і хотів дізнатися ціну на ремонт даху.",
        "Так, звичайно. Яка площа будинку і де він знаходиться?",
        "Це двоповерховий будинок у центрі міста, близько ста квадратних метрів.",
        "Тоді ціна починається від чотирьох тисяч доларів. Можемо приїхати у вівторок?",
    ),
}


@dataclass(frozen=True)
class Measured:
    name: str
    audio_seconds: float
    wall_seconds: float
    word_error_rate: float | None

    @property
    def real_time_factor(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds else float("inf")


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603


def make_call(folder: Path, language: str, seconds: float) -> tuple[Path, str]:
    """A dual-channel 8 kHz call in `language`: caller and business take turns."""
    sides: dict[str, list[Path]] = {"caller": [], "business": []}
    spoken: list[str] = []
    total, turn = 0.0, 0
    while total < seconds:
        text = SENTENCES[language][turn % len(SENTENCES[language])]
        speaker = "caller" if turn % 2 == 0 else "business"
        other = "business" if speaker == "caller" else "caller"
        line = folder / f"{language}-{turn}.wav"
        run(["espeak-ng", "-v", language, "-s", "150", "-w", str(line), text])
        phone = folder / f"{language}-{turn}-8k.wav"
        run(["sox", str(line), "-r", "8000", "-c", "1", "-b", "16", str(phone)])
        length = float(subprocess.check_output(["soxi", "-D", str(phone)]).decode())  # noqa: S603,S607
        quiet = folder / f"{language}-{turn}-quiet.wav"
        run(
            [
                "sox",
                "-n",
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                str(quiet),
                "trim",
                "0",
                f"{length:.3f}",
            ]
        )
        sides[speaker].append(phone)
        sides[other].append(quiet)
        spoken.append(text)
        total += length
        turn += 1
    left, right = folder / f"{language}-caller.wav", folder / f"{language}-business.wav"
    run(["sox", *map(str, sides["caller"]), str(left)])
    run(["sox", *map(str, sides["business"]), str(right)])
    call = folder / f"{language}-call.wav"
    run(["sox", "-M", str(left), str(right), str(call)])
    return call, " ".join(spoken)


def words(text: str) -> list[str]:
    return ["".join(c for c in word.lower() if c.isalnum()) for word in text.split()]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / max(len(ref), 1)


def measure(
    engine: FasterWhisperEngine, path: Path, language: str | None, name: str, said: str | None
) -> Measured:
    started = time.perf_counter()
    transcript = transcribe_file(engine, path, provider="twilio", language=language)
    wall = time.perf_counter() - started
    rate = word_error_rate(said, transcript.text) if said else None
    return Measured(name, transcript.duration, wall, rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    settings = Settings()
    parser.add_argument("--model", default=settings.speech_model)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--compute-type", default="")
    parser.add_argument("--beam", type=int, default=settings.speech_beam_size)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: CTranslate2's)")
    parser.add_argument("--seconds", type=float, default=60.0, help="Speech per language")
    parser.add_argument("--audio", type=Path, nargs="*", default=[], help="Your own recordings")
    args = parser.parse_args()
    config = SpeechConfig(
        model=args.model,
        models_dir=settings.speech_models_dir,
        device=args.device,
        compute_type=args.compute_type,
        beam_size=args.beam,
        vad=settings.speech_vad,
        cpu_threads=args.threads,
    )
    try:
        path = find_model(config)
    except SpeechError as exc:
        print("not measured: no speech model installed")
        print(f"  {exc}")
        print("  Install one as docs/lead-quality.md says (e.g. copy a")
        print("  faster-whisper-small directory into RINGTRAIL_SPEECH_MODELS_DIR) and run again.")
        return 0
    if not args.audio and not (shutil.which("espeak-ng") and shutil.which("sox")):
        print("not measured: espeak-ng and sox are needed to make speech (or pass --audio FILE)")
        return 0
    engine = FasterWhisperEngine(config)
    started = time.perf_counter()
    engine.load()
    print(f"model {config.model} at {path}: loaded in {time.perf_counter() - started:.1f} s")
    print(f"device {config.resolved_device()}, {config.resolved_compute_type()}, beam {args.beam}")
    results: list[Measured] = []
    if args.audio:
        results = [measure(engine, file, None, file.name, None) for file in args.audio]
    else:
        with tempfile.TemporaryDirectory(prefix="ringtrail-bench-") as folder:
            for language in SENTENCES:
                call, said = make_call(Path(folder), language, args.seconds)
                results.append(measure(engine, call, language, language, said))
    print(f"{'audio':>8} {'length':>8} {'wall':>8} {'speed':>10} {'WER':>6}")
    for result in results:
        wer = "-" if result.word_error_rate is None else f"{result.word_error_rate:.0%}"
        print(
            f"{result.name:>8} {result.audio_seconds:>7.1f}s {result.wall_seconds:>7.1f}s"
            f" {result.real_time_factor:>8.1f}x {wer:>6}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
