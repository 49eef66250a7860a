"""Which calls to label next: the least certain first, equally uncertain ones varied."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse

from ringtrail.scoring.active import rank_for_labelling, suggest_rows, uncertainty_of
from ringtrail.scoring.features import CallSample
from ringtrail.scoring.model import TargetModel
from tests.scoring_data import labelled_samples


def test_the_most_uncertain_call_comes_first() -> None:
    order = rank_for_labelling(np.array([0.99, 0.52, 0.1, 0.7]), None, 4)
    assert order == [1, 3, 2, 0]


def test_among_equally_uncertain_calls_variety_wins() -> None:
    # Rows 0 and 1 are the same call; row 2 differs. All equally uncertain.
    matrix = sparse.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert rank_for_labelling(np.array([0.5, 0.5, 0.5]), matrix, 2) == [0, 2]


@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=0, max_size=40),
    st.integers(min_value=0, max_value=50),
)
def test_suggestions_are_distinct_rows_and_never_more_than_asked(
    probabilities: list[float], n: int
) -> None:
    values = np.array(probabilities, dtype=np.float64)
    matrix = sparse.random(len(values), 5, density=0.5, random_state=1, format="csr")
    for rows in (rank_for_labelling(values, None, n), rank_for_labelling(values, matrix, n)):
        assert len(rows) == len(set(rows)) == min(n, len(values))
        assert all(0 <= row < len(values) for row in rows)
        if rows:
            assert uncertainty_of(values[rows[:1]])[0] >= uncertainty_of(values).max() - 0.05


def test_before_any_model_the_choice_is_by_variety() -> None:
    samples = [CallSample(text="price"), CallSample(text="price"), CallSample(text="refund")]
    rows, probabilities = suggest_rows(None, samples, 2)
    assert probabilities is None and rows == [0, 2]


def test_with_a_model_the_probabilities_come_along() -> None:
    samples, labels = labelled_samples(30)
    model = TargetModel().fit(samples, labels)
    rows, probabilities = suggest_rows(model, samples, 3)
    assert probabilities is not None and len(probabilities) == 30 and len(rows) == 3
