"""The calibrated target-call model: learns synthetic calls, stores as bytes, refuses too few."""

from __future__ import annotations

import pytest

from ringtrail.scoring.features import CallSample
from ringtrail.scoring.model import NotEnoughLabels, TargetModel, confidence_of
from tests.scoring_data import labelled_samples


def test_a_model_learns_target_calls_and_says_how_sure_it_is() -> None:
    samples, labels = labelled_samples(60)
    model = TargetModel().fit(samples, labels)
    probabilities = model.probabilities(
        [CallSample(text="скільки коштує квартира"), CallSample(text="верните деньги за ремонт")]
    )
    assert probabilities[0] > 0.5 > probabilities[1]
    assert all(0.0 <= p <= 1.0 for p in probabilities)


def test_a_stored_model_gives_the_same_scores() -> None:
    samples, labels = labelled_samples(30)
    model = TargetModel().fit(samples, labels)
    again = TargetModel.from_bytes(model.to_bytes())
    assert list(again.probabilities(samples[:5])) == list(model.probabilities(samples[:5]))


def test_bytes_of_something_else_are_refused() -> None:
    import pickle

    with pytest.raises(ValueError, match="retrain"):
        TargetModel.from_bytes(pickle.dumps((0, "not a model")))


def test_one_kind_of_label_cannot_train_a_model() -> None:
    samples, _ = labelled_samples(10)
    with pytest.raises(NotEnoughLabels, match="0 target and 10 non-target"):
        TargetModel().fit(samples, [False] * 10)


def test_confidence_is_the_larger_side() -> None:
    assert confidence_of(0.2) == pytest.approx(0.8) and confidence_of(0.9) == pytest.approx(0.9)
