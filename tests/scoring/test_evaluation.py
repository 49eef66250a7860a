"""Honest figures: a model is never scored on a call it trained on (leak canaries), and the
intervals, learning curve and threshold table hold their invariants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.scoring.evaluation import (
    Evaluation,
    estimate,
    evaluate,
    threshold_table,
    wilson,
)
from ringtrail.scoring.model import NotEnoughLabels, TargetModel
from tests.scoring_data import labelled_samples


def test_no_fold_ever_learns_a_word_only_held_out_calls_say() -> None:
    samples, labels = labelled_samples(48)
    # Every call carries a word of its own: a fitted vocabulary holding a held-out call's
    # word would mean that call reached training.
    canaries = {f"zqx{chr(97 + i // 26)}{chr(97 + i % 26)}": i for i in range(len(samples))}
    words = {i: word for word, i in canaries.items()}
    marked = [replace(s, text=f"{s.text} {words[i]}") for i, s in enumerate(samples)]
    fits: list[tuple[set[int], set[int]]] = []

    def check(model: TargetModel, train: Sequence[int], test: Sequence[int]) -> None:
        vocabulary = model.vectoriser.word_vocabulary
        learnt = {canaries[word] for word in vocabulary if word in canaries}
        assert learnt == set(train)
        assert not learnt & set(test)
        fits.append((set(train), set(test)))

    result = evaluate(marked, labels, repeats=3, curve_sizes=(12, 24), after_fit=check)
    assert len(fits) == 3 * len(result.curve)  # per repeat: the full model and each point
    assert all(not train & test for train, test in fits)
    assert {len(train) for train, _ in fits} >= {12, 24}
    assert {12, 24, 36} <= {p.labels for p in result.curve}


def test_a_duplicated_call_never_sits_on_both_sides_of_a_split() -> None:
    samples, labels = labelled_samples(40)
    doubled = samples + samples[:10]
    doubled_labels = labels + labels[:10]

    def check(model: TargetModel, train: Sequence[int], test: Sequence[int]) -> None:
        trained = {doubled[i] for i in train}
        assert not any(doubled[i] in trained for i in test)

    evaluate(doubled, doubled_labels, repeats=4, curve_sizes=(), after_fit=check)


def test_learnable_calls_score_high_with_intervals_around_the_mean() -> None:
    samples, labels = labelled_samples(60)
    result = evaluate(samples, labels, repeats=3, curve_sizes=(20,))
    assert result.accuracy.mean is not None and result.accuracy.mean > 0.9
    for figure in (result.accuracy, result.precision, result.recall, result.f1):
        assert figure.low is not None and figure.high is not None and figure.mean is not None
        assert 0.0 <= figure.low <= figure.mean <= figure.high <= 1.0
    assert sum(result.confusion.values()) == 3 * result.held_out
    assert Evaluation.from_json(result.to_json()) == result


def test_too_few_labels_are_refused_with_the_reason() -> None:
    samples, labels = labelled_samples(12)
    with pytest.raises(NotEnoughLabels, match="at least 4 target"):
        evaluate(samples[:9], labels[:9])


@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=500),
)
def test_an_interval_always_holds_its_mean_within_zero_and_one(
    values: list[float], trials: int
) -> None:
    figure = estimate(values, trials, 0.25)
    assert figure.low is not None and figure.high is not None and figure.mean is not None
    assert 0.0 <= figure.low <= figure.mean + 1e-9 and figure.mean - 1e-9 <= figure.high <= 1.0


@given(st.floats(min_value=0.0, max_value=1.0), st.integers(min_value=1, max_value=10_000))
def test_the_wilson_interval_narrows_with_more_trials(p: float, n: int) -> None:
    low, high = wilson(p, n)
    wider_low, wider_high = wilson(p, max(1, n // 4))
    assert high - low <= wider_high - wider_low + 1e-12


@given(
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=1.0), st.booleans()), min_size=1, max_size=60
    )
)
def test_a_higher_threshold_never_labels_more_calls(rows: list[tuple[float, bool]]) -> None:
    probabilities = np.array([p for p, _ in rows])
    truth = np.array([t for _, t in rows])
    table = threshold_table(probabilities, truth)
    coverages = [row.coverage for row in table]
    assert coverages == sorted(coverages, reverse=True)
    assert table[0].coverage == 1.0  # every call is at least 0.5 sure of one side
    assert all(row.expected_accuracy is None or 0 <= row.expected_accuracy <= 1 for row in table)
