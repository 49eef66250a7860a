"""Word forms: a phrase matches the forms its words take in Ukrainian, Russian and English,
in order, whatever the case and punctuation around it."""

# ruff: noqa: RUF001  (Russian and Ukrainian words on purpose)
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringtrail.domain.word_forms import (
    LANGUAGES,
    TextForms,
    detect_languages,
    keys,
    phrase_in_text,
    words,
)


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("ціна", "А яка буде ціна?"),
        ("ціна", "Домовилися за ціною."),
        ("ціна", "Ціни у вас високі"),
        ("цена", "Какие у вас цены?"),
        ("цена", "Устроило ценой"),
        ("доставка", "А з доставкою можна?"),
        ("узнать цену", "Хочу узнать цены на доставку"),
        ("записатися на прийом", "Я хочу записатися на прийом до лікаря"),
        ("price", "What are your PRICES, please"),
        ("прийом", "щодо прийому"),
    ],
)
def test_a_phrase_matches_the_forms_of_its_words(phrase: str, text: str) -> None:
    assert phrase_in_text(phrase, text)


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("ціна", "цінний досвід"),  # another word that starts alike is not enough here
        ("узнать цену", "цену хочу узнать"),  # the words of a phrase come in order
        ("доставка", "самовивіз"),
        ("price", ""),
    ],
)
def test_a_phrase_does_not_match_other_words_or_another_order(phrase: str, text: str) -> None:
    assert not phrase_in_text(phrase, text)


def test_words_fold_case_yo_and_apostrophes() -> None:
    assert words("Всё ДОБРЕ, м’ясо і мʼясо!") == ["все", "добре", "м'ясо", "і", "м'ясо"]


def test_the_language_of_a_text_is_detected() -> None:
    assert detect_languages("хочу дізнатися ціну доставки")[0] == "uk"
    assert detect_languages("хочу узнать цену доставки")[0] == "ru"
    assert detect_languages("I would like to know the price")[0] == "en"
    assert detect_languages("12345") == LANGUAGES


ALPHABET = "абвгдеєжзиіїйклмнопрстуфхцчшщьюяыэёabcdefghijklmnopqrstuvwxyz"
word_lists = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=12), min_size=1, max_size=4)
fillers = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=12), max_size=5)
separators = st.sampled_from([" ", ", ", " - ", "! ", "\n", "... "])
languages = st.sampled_from(LANGUAGES)


@settings(max_examples=60, deadline=None)
@given(word_lists, fillers, fillers, separators, languages)
def test_a_phrase_always_matches_a_text_that_says_it(
    phrase_words: list[str], before: list[str], after: list[str], sep: str, language: str
) -> None:
    """Whatever surrounds it and however it is cased or punctuated."""
    phrase = " ".join(phrase_words)
    text = sep.join([*before, sep.join(w.upper() for w in phrase_words), *after])
    assert TextForms(text, [language]).find(phrase)  # type: ignore[list-item]


@settings(max_examples=60, deadline=None)
@given(word_lists, languages)
def test_keys_are_the_same_for_a_word_however_cased(phrase_words: list[str], language: str) -> None:
    text = " ".join(phrase_words)
    assert keys(text, language) == keys(text.upper(), language)  # type: ignore[arg-type]
    assert len(keys(text, language)) == len(words(text))  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=" ,.!?0123456789-", max_size=20), word_lists)
def test_a_phrase_without_words_never_matches(blank: str, text_words: list[str]) -> None:
    assert not phrase_in_text(blank, " ".join(text_words))
