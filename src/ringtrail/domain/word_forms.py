"""Word forms: text cut into words and each word reduced to a key, so that a phrase list
matches the forms a word takes in English, Russian and Ukrainian ("ціна" meets "ціною" and
"ціни"; "цена" meets "цены" and "ценой").

A word's key in a language is its dictionary lemma (simplemma, whose dictionaries ship in
the package), then its Snowball stem where Snowball has the language (Russian, English), so
a form the dictionary lacks still meets its lemma. Ukrainian has no Snowball stemmer; a
small ending trim of the lemma stands in for it. A phrase of several words matches when
their keys occur in the text next to each other, in order. Matching a text in a set of
languages tries each of them; which to try is the caller's choice (a rule's languages, or
`detect_languages` on the text).
"""

# ruff: noqa: RUF001, RUF002  (Russian and Ukrainian letters and endings on purpose)
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Literal

import simplemma
import snowballstemmer  # type: ignore[import-untyped]

Language = Literal["en", "ru", "uk"]
LANGUAGES: tuple[Language, ...] = ("uk", "ru", "en")
"""The languages phrase matching knows, in the order they are tried."""

MAX_TEXT_WORDS = 20_000
"""Words of a text looked at; a longer transcript is cut (a two-hour call is about 15,000)."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "`": "'", "\u2018": "'"})
_SNOWBALL = {"ru": "russian", "en": "english"}
# Ukrainian noun, adjective and verb endings, longest first: a stand-in for a stemmer, cut
# from the lemma, so a form the dictionary lacks still meets the forms it knows.
_UK_ENDINGS = tuple(
    sorted(
        [
            *("ою", "ею", "ами", "ями", "ах", "ях", "ові", "еві", "ів", "їв", "ам", "ям"),
            *("ом", "ем", "им", "ій", "ий", "ого", "ому", "их", "іх", "ими", "ої", "ую"),
            *("юю", "а", "я", "о", "е", "у", "ю", "і", "ї", "и"),
        ],
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 3


def words(text: str) -> list[str]:
    """The words of `text`, case-folded, in order ("ё" read as "е"; any apostrophe as ')."""
    folded = text.translate(_APOSTROPHES).casefold().replace("ё", "е")
    return _WORD.findall(folded)[:MAX_TEXT_WORDS]


@lru_cache(maxsize=65_536)
def word_key(word: str, language: Language) -> str:
    """The key of one case-folded word in `language`: equal keys are forms of one word."""
    lemma: str = simplemma.lemmatize(word, lang=language).casefold().replace("ё", "е")
    stemmer_name = _SNOWBALL.get(language)
    if stemmer_name is not None:
        stem: str = _stemmer(stemmer_name).stemWord(lemma)
        return stem or lemma
    return _trim_ukrainian(lemma)


@lru_cache(maxsize=4)
def _stemmer(name: str) -> Any:
    return snowballstemmer.stemmer(name)


def _trim_ukrainian(word: str) -> str:
    for ending in _UK_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


def keys(text: str, language: Language) -> tuple[str, ...]:
    """The keys of the words of `text` in `language`, in order."""
    return tuple(word_key(word, language) for word in words(text))


def detect_languages(text: str, among: Sequence[Language] = LANGUAGES) -> tuple[Language, ...]:
    """The languages `text` is most likely in: the best guess and any nearly as good.

    All of `among` when the text gives no clue (too short, or words no dictionary knows).
    """
    if not among:
        return ()
    sample = " ".join(words(text)[:500])
    scores = dict(simplemma.langdetect(sample, lang=tuple(among)))
    best = max((scores.get(language, 0.0) for language in among), default=0.0)
    if best <= 0:
        return tuple(among)
    return tuple(language for language in among if scores.get(language, 0.0) >= best - 0.1)


class TextForms:
    """A text's word keys in each language, computed once and matched against many phrases."""

    def __init__(self, text: str, languages: Iterable[Language]) -> None:
        self.languages: tuple[Language, ...] = tuple(dict.fromkeys(languages))
        self._keys = {language: keys(text, language) for language in self.languages}

    def find(self, phrase: str) -> bool:
        """Whether the phrase occurs in the text (any of its forms, in any of the languages)."""
        for language in self.languages:
            wanted = keys(phrase, language)
            if wanted and _contains(self._keys[language], wanted):
                return True
        return False

    def found(self, phrases: Iterable[str]) -> list[str]:
        """The phrases that occur in the text, in the order given."""
        return [phrase for phrase in phrases if self.find(phrase)]


def _contains(text: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    first = phrase[0]
    for start in range(len(text) - size + 1):
        if text[start] == first and text[start : start + size] == phrase:
            return True
    return False


def phrase_in_text(phrase: str, text: str, languages: Iterable[Language] = LANGUAGES) -> bool:
    """Whether `phrase` occurs in `text` in any of its word forms (one-off; see `TextForms`)."""
    return TextForms(text, languages).find(phrase)
