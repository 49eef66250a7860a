"""How good a model trained on these labels is, measured only on labels it never saw.

Each repeat splits the labelled calls at random into a training part and a held-out part
(stratified, so both keep the share of target calls; identical calls stay on one side, so a
duplicate never tests the model on its own training row). A model is fitted on the training
part only (its vectorisers included) and scored on the held-out part. The figures are the
mean over repeats with a 95% interval: the wider of the corrected resampled t interval
(Nadeau and Bengio, since repeated splits overlap) and the Wilson interval of one held-out
set. The learning curve refits on smaller stratified samples of each training part and scores
them on the same held-out part. The threshold table pools the held-out predictions: for each
confidence threshold, the share of calls the model would label and how many of those it gets
right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats
from sklearn.model_selection import StratifiedGroupKFold

from ringtrail.scoring.features import CallSample
from ringtrail.scoring.model import MIN_PER_CLASS, ModelSettings, NotEnoughLabels, TargetModel

DEFAULT_REPEATS = 5
DEFAULT_FOLDS = 4  # one fold held out per repeat: a quarter of the labels
CURVE_SIZES = (20, 50, 100, 200, 300, 500, 1000, 2000, 5000)
CURVE_FRACTIONS = (0.25, 0.5, 0.75)
THRESHOLDS = tuple(round(0.5 + step / 100, 2) for step in range(50))
MIN_LABELS = 2 * (MIN_PER_CLASS + 1)

FitHook = Callable[[TargetModel, Sequence[int], Sequence[int]], None]
"""Called after every fit with the model, its training rows and the rows it is scored on."""
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Estimate:
    """A figure's mean over repeats and its 95% interval (None when never defined)."""

    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class CurvePoint:
    """Accuracy and F1 when trained on `labels` labels."""

    labels: int
    accuracy: Estimate
    f1: Estimate


@dataclass(frozen=True)
class ThresholdRow:
    """Labelling only calls whose confidence is at least `threshold`: what share is labelled
    (`coverage`) and how many of those labels are right (`expected_accuracy`)."""

    threshold: float
    coverage: float
    expected_accuracy: float | None
    covered: int


@dataclass(frozen=True)
class Evaluation:
    """Everything measured; `confusion` sums the held-out predictions of every repeat."""

    labels: int
    targets: int
    repeats: int
    held_out: int
    accuracy: Estimate
    precision: Estimate
    recall: Estimate
    f1: Estimate
    confusion: dict[str, int]
    curve: list[CurvePoint] = field(default_factory=list)
    thresholds: list[ThresholdRow] = field(default_factory=list)

    def at_threshold(self, threshold: float) -> ThresholdRow | None:
        """The measured row for the highest tabulated threshold not above `threshold`."""
        rows = [row for row in self.thresholds if row.threshold <= threshold + 1e-9]
        return rows[-1] if rows else None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the database's JSON column."""
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Evaluation:
        """An Evaluation stored by `to_json`."""

        def est(value: dict[str, Any]) -> Estimate:
            return Estimate(value["mean"], value["low"], value["high"])

        return Evaluation(
            labels=data["labels"],
            targets=data["targets"],
            repeats=data["repeats"],
            held_out=data["held_out"],
            accuracy=est(data["accuracy"]),
            precision=est(data["precision"]),
            recall=est(data["recall"]),
            f1=est(data["f1"]),
            confusion=dict(data["confusion"]),
            curve=[
                CurvePoint(p["labels"], est(p["accuracy"]), est(p["f1"])) for p in data["curve"]
            ],
            thresholds=[ThresholdRow(**row) for row in data["thresholds"]],
        )


@dataclass(frozen=True)
class Counts:
    """One held-out set's confusion counts."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def accuracy(self) -> float | None:
        return (self.tp + self.tn) / self.n if self.n else None

    def precision(self) -> float | None:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else None

    def recall(self) -> float | None:
        actual = self.tp + self.fn
        return self.tp / actual if actual else None

    def f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None


def counts_of(truth: NDArray[np.bool_], predicted: NDArray[np.bool_]) -> Counts:
    """Confusion counts of predictions against the truth."""
    return Counts(
        tp=int(np.sum(truth & predicted)),
        fp=int(np.sum(~truth & predicted)),
        fn=int(np.sum(truth & ~predicted)),
        tn=int(np.sum(~truth & ~predicted)),
    )


def wilson(p: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion `p` measured on `n` trials."""
    if n <= 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def estimate(values: Sequence[float | None], trials: float, test_over_train: float) -> Estimate:
    """Mean of per-repeat values with a 95% interval (see the module docstring)."""
    known = np.array([v for v in values if v is not None], dtype=np.float64)
    if known.size == 0:
        return Estimate(None, None, None)
    mean = float(known.mean())
    low, high = wilson(mean, trials)
    if known.size > 1:
        spread = float(known.std(ddof=1))
        se = math.sqrt((1 / known.size + test_over_train) * spread * spread)
        half = float(stats.t.ppf(0.975, known.size - 1)) * se
        low, high = min(low, mean - half), max(high, mean + half)
    return Estimate(mean, max(0.0, low), min(1.0, high))


def _groups(samples: Sequence[CallSample]) -> NDArray[np.int64]:
    ids: dict[CallSample, int] = {}
    return np.array([ids.setdefault(s, len(ids)) for s in samples], dtype=np.int64)


def split_indices(
    samples: Sequence[CallSample], labels: NDArray[np.bool_], repeats: int, seed: int
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """(training rows, held-out rows) per repeat: stratified, identical calls kept together."""
    groups = _groups(samples)
    folds = DEFAULT_FOLDS
    splits = []
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        train, test = next(iter(splitter.split(np.zeros(len(labels)), labels, groups)))
        splits.append((train.astype(np.int64), test.astype(np.int64)))
    return splits


def stratified_sample(
    rows: NDArray[np.int64], labels: NDArray[np.bool_], size: int, rng: np.random.Generator
) -> NDArray[np.int64] | None:
    """`size` of `rows` keeping the share of target calls; None when a class would be short."""
    positive = rows[labels[rows]]
    negative = rows[~labels[rows]]
    want_positive = round(size * len(positive) / len(rows))
    want_positive = min(max(want_positive, MIN_PER_CLASS), len(positive))
    want_negative = size - want_positive
    if want_negative < MIN_PER_CLASS or want_negative > len(negative):
        return None
    picked = np.concatenate(
        [
            rng.choice(positive, want_positive, replace=False),
            rng.choice(negative, want_negative, replace=False),
        ]
    )
    return np.sort(picked)


def _fit(
    samples: Sequence[CallSample],
    labels: NDArray[np.bool_],
    train: NDArray[np.int64],
    test: NDArray[np.int64],
    settings: ModelSettings | None,
    after_fit: FitHook | None,
) -> NDArray[np.float64]:
    model = TargetModel(settings).fit([samples[i] for i in train], [bool(labels[i]) for i in train])
    if after_fit is not None:
        after_fit(model, [int(i) for i in train], [int(i) for i in test])
    return model.probabilities([samples[i] for i in test])


def evaluate(
    samples: Sequence[CallSample],
    labels: Sequence[bool],
    *,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
    curve_sizes: Sequence[int] = CURVE_SIZES,
    settings: ModelSettings | None = None,
    after_fit: FitHook | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Measure a model on these labelled calls over `repeats` random held-out splits."""
    if len(samples) != len(labels):
        raise ValueError("one label per sample")
    truth = np.array(labels, dtype=bool)
    targets = int(truth.sum())
    if len(truth) < MIN_LABELS or min(targets, len(truth) - targets) < MIN_PER_CLASS + 1:
        raise NotEnoughLabels(
            f"an evaluation needs at least {MIN_PER_CLASS + 1} target and"
            f" {MIN_PER_CLASS + 1} non-target labels (some are held out); there are"
            f" {targets} target and {len(truth) - targets} non-target"
        )
    splits = split_indices(samples, truth, repeats, seed)
    rng = np.random.default_rng(seed)
    smallest_train = min(len(train) for train, _ in splits)
    # Fixed sizes, and for few labels also fractions of them, so a small project has a curve.
    fractions = {round(smallest_train * f) for f in CURVE_FRACTIONS} if curve_sizes else set()
    sizes = sorted(
        s for s in set(curve_sizes) | fractions if 2 * MIN_PER_CLASS <= s < smallest_train
    )
    total = repeats * (1 + len(sizes))
    done = 0
    per_repeat: list[Counts] = []
    pooled_probability: list[NDArray[np.float64]] = []
    pooled_truth: list[NDArray[np.bool_]] = []
    curve_counts: dict[int, list[Counts]] = {size: [] for size in sizes}
    for train, test in splits:
        probability = _fit(samples, truth, train, test, settings, after_fit)
        per_repeat.append(counts_of(truth[test], probability >= 0.5))
        pooled_probability.append(probability)
        pooled_truth.append(truth[test])
        done += 1
        if progress is not None:
            progress(done, total)
        for size in sizes:
            subset = stratified_sample(train, truth, size, rng)
            if subset is not None:
                small = _fit(samples, truth, subset, test, settings, after_fit)
                curve_counts[size].append(counts_of(truth[test], small >= 0.5))
            done += 1
            if progress is not None:
                progress(done, total)
    held_out = round(float(np.mean([len(test) for _, test in splits])))
    ratio = held_out / max(1, len(truth) - held_out)
    summed = Counts(*(sum(getattr(c, k) for c in per_repeat) for k in ("tp", "fp", "fn", "tn")))
    mean_positive_predictions = (summed.tp + summed.fp) / repeats
    mean_positives = (summed.tp + summed.fn) / repeats

    def curve_point(size: int, counts: list[Counts]) -> CurvePoint:
        # Subsamples overlap less than whole training parts, so the split's ratio is enough.
        return CurvePoint(
            size,
            estimate([c.accuracy() for c in counts], held_out, ratio),
            estimate([c.f1() for c in counts], mean_positives, ratio),
        )

    curve = [curve_point(size, counts) for size, counts in curve_counts.items() if counts]
    full = len(truth) - held_out
    curve.append(curve_point(full, per_repeat))
    return Evaluation(
        labels=len(truth),
        targets=targets,
        repeats=repeats,
        held_out=held_out,
        accuracy=estimate([c.accuracy() for c in per_repeat], held_out, ratio),
        precision=estimate([c.precision() for c in per_repeat], mean_positive_predictions, ratio),
        recall=estimate([c.recall() for c in per_repeat], mean_positives, ratio),
        f1=estimate([c.f1() for c in per_repeat], mean_positives, ratio),
        confusion={"tp": summed.tp, "fp": summed.fp, "fn": summed.fn, "tn": summed.tn},
        curve=curve,
        thresholds=threshold_table(
            np.concatenate(pooled_probability), np.concatenate(pooled_truth)
        ),
    )


def threshold_table(
    probabilities: NDArray[np.float64],
    truth: NDArray[np.bool_],
    thresholds: Sequence[float] = THRESHOLDS,
) -> list[ThresholdRow]:
    """For each threshold: share of calls labelled and accuracy of those labels."""
    confidence = np.maximum(probabilities, 1.0 - probabilities)
    right = (probabilities >= 0.5) == truth
    rows = []
    for threshold in thresholds:
        covered = confidence >= threshold - 1e-12
        count = int(covered.sum())
        rows.append(
            ThresholdRow(
                threshold=float(threshold),
                coverage=count / len(truth) if len(truth) else 0.0,
                expected_accuracy=float(right[covered].mean()) if count else None,
                covered=count,
            )
        )
    return rows
