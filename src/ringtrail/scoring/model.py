"""The target-call model: a linear classifier over `CallVectoriser` features, calibrated.

Logistic regression with balanced class weights, wrapped in `CalibratedClassifierCV`
(sigmoid, fitted on the classifier's cross-validated scores; one classifier fitted on every
label then scores calls, so labelling a call is one prediction) so a score of 0.9 means about
nine in ten such calls are target calls: the owner's threshold is a probability, not an
arbitrary margin. The fitted model is stored as bytes
(pickle) in the database, one row per version.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ringtrail.scoring.features import CallSample, CallVectoriser

MIN_PER_CLASS = 3
"""Fewest target and non-target labels a model is trained from (calibration needs folds)."""
CALIBRATION_FOLDS = 3
MODEL_FORMAT = 1


class NotEnoughLabels(ValueError):
    """The labels cannot train a model (too few, or only one kind); the message says why."""


@dataclass(frozen=True)
class ModelSettings:
    """How a model is built; `c` is the inverse regularisation strength."""

    c: float = 10.0
    facts_weight: float = 1.0


def check_labels(labels: Sequence[bool]) -> None:
    """Raise NotEnoughLabels unless both kinds have at least MIN_PER_CLASS labels."""
    targets = sum(1 for label in labels if label)
    others = len(labels) - targets
    if targets < MIN_PER_CLASS or others < MIN_PER_CLASS:
        raise NotEnoughLabels(
            f"a model needs at least {MIN_PER_CLASS} target and {MIN_PER_CLASS} non-target"
            f" labels; there are {targets} target and {others} non-target"
        )


class TargetModel:
    """Fit on labelled calls, then `probabilities` of being a target call for any calls."""

    def __init__(self, settings: ModelSettings | None = None) -> None:
        self.settings = settings or ModelSettings()
        self.vectoriser = CallVectoriser(facts_weight=self.settings.facts_weight)
        self.classifier: CalibratedClassifierCV | None = None

    def fit(self, samples: Sequence[CallSample], labels: Sequence[bool]) -> TargetModel:
        """Train on `samples` with their labels (True: target); returns self."""
        if len(samples) != len(labels):
            raise ValueError("one label per sample")
        check_labels(labels)
        # One BLAS thread: these problems are small, and threads only fight over the cores.
        with threadpool_limits(limits=1):
            return self._fit(samples, labels)

    def _fit(self, samples: Sequence[CallSample], labels: Sequence[bool]) -> TargetModel:
        y = np.array([1 if label else 0 for label in labels])
        minority = int(min(y.sum(), len(y) - y.sum()))
        x = self.vectoriser.fit_transform(samples)
        base = LogisticRegression(
            C=self.settings.c, class_weight="balanced", max_iter=2000, solver="liblinear"
        )
        self.classifier = CalibratedClassifierCV(
            base, method="sigmoid", cv=min(CALIBRATION_FOLDS, minority), ensemble=False
        )
        self.classifier.fit(x, y)
        return self

    def matrix(self, samples: Sequence[CallSample]) -> sparse.csr_matrix:
        """The samples in the fitted feature space (for diversity in suggestions)."""
        return self.vectoriser.transform(samples)

    def probabilities(self, samples: Sequence[CallSample]) -> NDArray[np.float64]:
        """P(target) for each sample."""
        if self.classifier is None:
            raise RuntimeError("the model is not trained")
        if not samples:
            return np.zeros(0)
        return self.probabilities_of(self.vectoriser.transform(samples))

    def probabilities_of(self, x: sparse.csr_matrix) -> NDArray[np.float64]:
        """P(target) for rows already in the fitted feature space."""
        if self.classifier is None:
            raise RuntimeError("the model is not trained")
        return np.asarray(self.classifier.predict_proba(x)[:, 1], dtype=np.float64)

    def to_bytes(self) -> bytes:
        """The fitted model, for the database."""
        buffer = io.BytesIO()
        pickle.dump((MODEL_FORMAT, self), buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> TargetModel:
        """A model stored by `to_bytes` (only ever read from this project's own database)."""
        try:
            version, model = pickle.loads(blob)  # noqa: S301 - our own rows, by to_bytes
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise ValueError("the stored model cannot be read; retrain it") from exc
        if version != MODEL_FORMAT or not isinstance(model, TargetModel):
            raise ValueError("the stored model was written by another version; retrain it")
        return model


def confidence_of(probability: float) -> float:
    """How sure the model is of its answer: P(target) or P(not target), whichever is larger."""
    return max(probability, 1.0 - probability)
