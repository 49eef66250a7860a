"""What the classifier sees of a call: word forms, letter n-grams and call facts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.scoring.features import (
    TALK_BINS,
    CallSample,
    CallVectoriser,
    facts_of,
    hour_bin,
    talk_bin,
    words_of,
)


def test_word_forms_of_ukrainian_russian_and_english_meet_in_one_lemma() -> None:
    assert words_of("ціни ціною")[0] == words_of("ціною")[0] == "ціна"
    assert words_of("квартиры")[0] == words_of("квартиру")[0]
    assert words_of("Cards")[0] == "card"


def test_call_facts_become_categories_and_a_scaled_talk_time() -> None:
    facts = facts_of(CallSample(talk_seconds=75, is_first_time=True, source="Google", hour=9,
                                tags=("Price",)))  # fmt: skip
    assert facts["talk"] == "60+" and facts["first_time"] == "yes" and facts["source"] == "google"
    assert facts["hour"] == "morning" and facts["tag=price"] == 1.0
    assert 0 < facts["log_talk"] < 1
    unknown = facts_of(CallSample())
    assert unknown["talk"] == "unknown" and "log_talk" not in unknown


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
def test_a_longer_call_never_falls_in_a_shorter_bin(a: int, b: int) -> None:
    short, long = sorted((a, b))
    edges = [f"{edge}+" for edge in TALK_BINS]
    assert edges.index(talk_bin(short)) <= edges.index(talk_bin(long))


@given(st.integers(min_value=0, max_value=23))
def test_every_hour_has_a_part_of_the_day(hour: int) -> None:
    assert hour_bin(hour) in {"night", "morning", "day", "evening"}


def test_the_vectoriser_knows_only_what_it_was_fitted_on() -> None:
    vectoriser = CallVectoriser()
    matrix = vectoriser.fit_transform([CallSample(text="price of the flat"), CallSample()])
    assert matrix.shape[0] == 2
    assert "price" in vectoriser.word_vocabulary and "refund" not in vectoriser.word_vocabulary
    assert vectoriser.transform([CallSample(text="refund please")]).shape[1] == matrix.shape[1]


def test_calls_without_transcripts_still_make_a_feature_space() -> None:
    vectoriser = CallVectoriser()
    matrix = vectoriser.fit_transform([CallSample(talk_seconds=5), CallSample(source="google")])
    assert matrix.shape[0] == 2 and matrix.shape[1] > 0
