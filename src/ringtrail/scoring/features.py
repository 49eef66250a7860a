"""What the classifier sees of a call: its transcript's words and letters, and its facts.

Words are reduced to their lemma (simplemma's dictionaries for English, Russian and
Ukrainian, shipped inside the package) so "ціна", "ціни" and "ціною" count as one word; letter
n-grams within words catch what a dictionary misses (typos, speech-recognition slips, rare
forms). Call facts (talk time, first-time caller, source and medium, hour of day, tags)
become a few categorical features. Nothing is downloaded: the vectorisers are fitted here on
the project's own labelled calls.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import regex
import simplemma
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer

_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'\u2019\-]*|\p{N}+")
_CYRILLIC = regex.compile(r"\p{Cyrillic}")
TALK_BINS = (0, 10, 30, 60, 120, 300, 600)
"""Talk-time bin edges in seconds: a 5 s call and a 5 min call differ, 61 s and 62 s do not."""
EVERY_CALL = "§"
"""A token every call has (so a vectoriser fitted on calls without transcripts still works)."""
HOUR_BINS = ((0, 8, "night"), (8, 12, "morning"), (12, 18, "day"), (18, 24, "evening"))


@dataclass(frozen=True)
class CallSample:
    """One call as the classifier sees it; every fact may be unknown (None)."""

    text: str = ""
    talk_seconds: int | None = None
    is_first_time: bool | None = None
    source: str | None = None
    medium: str | None = None
    hour: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=200_000)
def lemma_of(token: str) -> str:
    """The dictionary form of one lower-cased word (itself when no dictionary knows it)."""
    langs: tuple[str, ...] = ("ru", "uk") if _CYRILLIC.search(token) else ("en",)
    try:
        return str(simplemma.lemmatize(token, lang=langs)).lower()
    except ValueError:
        return token


def words_of(text: str) -> list[str]:
    """The text's words, lower-cased and lemmatised, in order."""
    return [lemma_of(token) for token in _WORD.findall(text.lower())]


def talk_bin(seconds: int | None) -> str:
    """The talk-time bin a call falls in ("unknown" when not known)."""
    if seconds is None:
        return "unknown"
    label = f"{TALK_BINS[0]}+"
    for edge in TALK_BINS:
        if seconds >= edge:
            label = f"{edge}+"
    return label


def hour_bin(hour: int | None) -> str:
    """The part of the day an hour (0-23) falls in."""
    if hour is None:
        return "unknown"
    for start, end, name in HOUR_BINS:
        if start <= hour < end:
            return name
    return "unknown"


def facts_of(sample: CallSample) -> dict[str, Any]:
    """The call's facts as features: categorical ones one-hot, talk time also log-scaled."""
    facts: dict[str, Any] = {
        "talk": talk_bin(sample.talk_seconds),
        "first_time": {True: "yes", False: "no", None: "unknown"}[sample.is_first_time],
        "source": (sample.source or "none").lower(),
        "medium": (sample.medium or "none").lower(),
        "hour": hour_bin(sample.hour),
    }
    if sample.talk_seconds is not None:
        facts["log_talk"] = math.log1p(max(sample.talk_seconds, 0)) / math.log1p(3600)
    for tag in sample.tags:
        facts[f"tag={tag.lower()}"] = 1.0
    return facts


def _identity(words: list[str]) -> list[str]:
    return words


class CallVectoriser:
    """Turns calls into one sparse matrix: word n-grams, letter n-grams and facts.

    Fitted on training calls only; `word_vocabulary` is what the fitted word vectoriser
    knows, which the leak tests read.
    """

    def __init__(self, *, facts_weight: float = 1.0) -> None:
        self.facts_weight = facts_weight
        self.words = TfidfVectorizer(
            analyzer=_identity, sublinear_tf=True, min_df=1, dtype=np.float64, lowercase=False
        )
        self.letters = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, max_features=60_000
        )
        self.facts = DictVectorizer()

    @staticmethod
    def _word_grams(sample: CallSample) -> list[str]:
        tokens = words_of(sample.text)
        # The constant keeps the vocabulary non-empty when no call has a transcript yet.
        return [
            EVERY_CALL,
            *tokens,
            *(f"{a} {b}" for a, b in itertools.pairwise(tokens)),
        ]

    @staticmethod
    def _letters(sample: CallSample) -> str:
        return f"{EVERY_CALL} {sample.text.lower()}"

    def fit_transform(self, samples: Sequence[CallSample]) -> sparse.csr_matrix:
        """Fit on `samples` and return their matrix."""
        words = self.words.fit_transform([self._word_grams(s) for s in samples])
        letters = self.letters.fit_transform([self._letters(s) for s in samples])
        facts = self.facts.fit_transform([facts_of(s) for s in samples]) * self.facts_weight
        return sparse.hstack([words, letters, facts], format="csr")

    def transform(self, samples: Sequence[CallSample]) -> sparse.csr_matrix:
        """The matrix of `samples` in the fitted feature space."""
        words = self.words.transform([self._word_grams(s) for s in samples])
        letters = self.letters.transform([self._letters(s) for s in samples])
        facts = self.facts.transform([facts_of(s) for s in samples]) * self.facts_weight
        return sparse.hstack([words, letters, facts], format="csr")

    @property
    def word_vocabulary(self) -> frozenset[str]:
        """Every word n-gram the fitted vectoriser knows."""
        return frozenset(self.words.vocabulary_)
