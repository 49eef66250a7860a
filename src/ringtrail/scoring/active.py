"""Which calls a person should label next: those the model is least sure of, varied.

Uncertainty sampling: a call scored near 0.5 teaches the model most when a person labels it.
Calls about equally uncertain (within `BUCKET`) are taken so that each next one is the least
like those already chosen (cosine similarity of their features), so a page of suggestions is
not ten copies of one kind of call. Before any model exists every call is equally uncertain,
and the choice is by variety alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.preprocessing import normalize

from ringtrail.scoring.features import CallSample, CallVectoriser
from ringtrail.scoring.model import TargetModel

BUCKET = 0.05
"""Uncertainties this close count as a tie, which variety breaks."""
CANDIDATES_PER_PICK = 5


def uncertainty_of(probabilities: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 for a score of 0.5, 0 for a score of 0 or 1."""
    return np.asarray(1.0 - np.abs(2.0 * np.asarray(probabilities, dtype=np.float64) - 1.0))


def rank_for_labelling(
    probabilities: NDArray[np.float64], matrix: sparse.spmatrix | None, n: int
) -> list[int]:
    """Row numbers of the `n` calls to label next, most informative first.

    `probabilities` are the model's P(target) for the unlabelled calls (all 0.5 without a
    model); `matrix` their feature rows, or None to rank by uncertainty alone.
    """
    count = len(probabilities)
    if n <= 0 or count == 0:
        return []
    scores = uncertainty_of(probabilities)
    # Stable: among equal scores the earlier row (the caller's order) comes first.
    order = np.argsort(-scores, kind="stable")
    pool = order[: min(count, max(n * CANDIDATES_PER_PICK, 50))]
    if matrix is None:
        return [int(i) for i in order[:n]]
    rows = normalize(sparse.csr_matrix(matrix)[pool])
    buckets = np.floor(scores[pool] / BUCKET + 1e-9)
    closest = np.zeros(len(pool))
    taken = np.zeros(len(pool), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < min(n, len(pool)):
        best_bucket = buckets[~taken].max()
        ties = np.flatnonzero((buckets == best_bucket) & ~taken)
        pick = int(ties[np.argmin(closest[ties])])
        taken[pick] = True
        chosen.append(int(pool[pick]))
        similarity = np.asarray((rows @ rows[pick].T).todense()).ravel()
        closest = np.maximum(closest, similarity)
    return chosen


def suggest_rows(
    model: TargetModel | None, samples: Sequence[CallSample], n: int
) -> tuple[list[int], NDArray[np.float64] | None]:
    """Row numbers of the `n` samples to label next, and the model's P(target) for every
    sample (None without a model: then the choice is by variety alone, in features fitted on
    the candidates themselves)."""
    if not samples or n <= 0:
        return [], None
    if model is None:
        matrix = CallVectoriser().fit_transform(samples)
        return rank_for_labelling(np.full(len(samples), 0.5), matrix, n), None
    matrix = model.matrix(samples)
    probabilities = model.probabilities_of(matrix)
    return rank_for_labelling(probabilities, matrix, n), probabilities
