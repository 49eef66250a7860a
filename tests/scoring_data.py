"""Test helper: small synthetic call transcripts a model learns in well under a second.

Target calls ask about buying (price, viewing, availability); non-target calls are service
requests of existing customers (a repair, a refund, a late delivery). Phrases come in English,
Russian and Ukrainian, in several word forms, with filler words around them.
"""

# ruff: noqa: RUF001  (Russian and Ukrainian transcripts on purpose)
from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ringtrail.scoring.features import CallSample

if TYPE_CHECKING:
    from ringtrail.storage.models import ScoringModel
    from tests.conftest import World

TARGET_PHRASES = (
    "how much does the apartment cost",
    "what is the price of the flat",
    "can I book a viewing tomorrow",
    "is the house still available for sale",
    "сколько стоит квартира",
    "хочу купить квартиру",
    "скільки коштує квартира",
    "хочу подивитися квартиру",
)
SERVICE_PHRASES = (
    "my heating is broken again",
    "I want a refund for the repair",
    "the invoice for my rent is wrong",
    "nobody fixed the leaking tap",
    "у меня сломалось отопление",
    "верните деньги за ремонт",
    "у мене зламалося опалення",
    "поверніть гроші за ремонт",
)
FILLER = ("hello", "yes", "well", "алло", "добрый день", "добрий день", "thanks", "okay", "so")


def transcript(rng: random.Random, target: bool) -> str:
    """A short dialogue: greetings, one or two phrases of its kind, filler."""
    phrases = TARGET_PHRASES if target else SERVICE_PHRASES
    parts = [rng.choice(FILLER), rng.choice(phrases), rng.choice(FILLER)]
    if rng.random() < 0.5:
        parts.append(rng.choice(phrases))
    return ". ".join(parts)


def labelled_samples(count: int, seed: int = 7) -> tuple[list[CallSample], list[bool]]:
    """`count` synthetic calls, about a third of them target, with their labels."""
    rng = random.Random(seed)
    samples, labels = [], []
    for index in range(count):
        target = index % 3 == 0
        samples.append(
            CallSample(
                text=transcript(rng, target),
                talk_seconds=rng.randint(20, 300),
                is_first_time=rng.random() < 0.5,
                source=rng.choice(["google", "direct", "facebook"]),
                hour=rng.randint(0, 23),
            )
        )
        labels.append(target)
    return samples, labels


def add_transcribed_call(db: Any, project: Any, text: str, **values: Any) -> Any:
    """A call of `project` with a recording whose transcript is `text` (tests.call_rows)."""
    from tests.call_rows import add_call, add_recording

    call = add_call(db, project, **values)
    add_recording(db, call).transcript = text
    db.flush()
    return call


def add_labelled_calls(
    db: Any, project: Any, count: int, *, seed: int = 7, user_id: int | None = None
) -> list[Any]:
    """`count` transcribed calls marked target or not by a person (about a third target)."""
    from ringtrail.services.call_marking import mark_target

    rng = random.Random(seed)
    calls = []
    for index in range(count):
        target = index % 3 == 0
        call = add_transcribed_call(db, project, transcript(rng, target))
        mark_target(db, project.id, call.id, user_id, target)
        calls.append(call)
    db.flush()
    return calls


def trained_model(db: Any, world: World, now: datetime, count: int = 30) -> ScoringModel:
    """A model of `world`'s own project trained (quickly) on `count` calls its owner labelled."""
    from ringtrail.services.scoring import train

    add_labelled_calls(db, world.ours.project, count, user_id=world.ours.owner.id)
    model = train(db, world.ours.project.id, now, repeats=2)
    db.commit()
    return model
