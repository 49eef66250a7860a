"""The target-call classifier on the banking77 stand-in: accuracy by labels, active vs random.

    python bench/scoring_bench.py --data PATH/TO/banking77        (or RINGTRAIL_BANKING77=...)

banking77 (PolyAI, CC BY-NC 4.0: benchmarks only, never shipped) maps each customer query's
intent to prospect (target) or service with `prospect_intents.txt` beside the data. Each
repeat draws a held-out set (`--test`, 2,000 queries) and a disjoint labelling pool (the
rest). At every size in `--sizes` a model is trained on that many labels from the pool and
scored on the held-out set only:

- random: the labels are a random sample of the pool;
- active: a random start of `--start` labels, then, batch by batch (`--batch`, or a tenth of
  the labels so far when more), the calls the product's
  own suggestion (`ringtrail.scoring.active.suggest_rows`, what `ringtrail scoring suggest`
  and the dashboard show) puts first among the unlabelled pool; before the labels hold 3 of
  each kind, it chooses by variety alone, as the product does.

It prints accuracy, precision, recall and F1 with 95% intervals over repeats (t interval of
the per-repeat values, widened to the Wilson interval of one held-out set where wider), the
fewest labels
at which each strategy reaches the `--goal` accuracies, and the time to train on 1,000 labels
and to label one call. Figures describe the stand-in (English, one sentence per query, no
speech-recognition noise), not real calls.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ringtrail.scoring.active import suggest_rows
from ringtrail.scoring.evaluation import Counts, Estimate, counts_of, estimate
from ringtrail.scoring.features import CallSample
from ringtrail.scoring.model import NotEnoughLabels, TargetModel
from ringtrail.services.scoring import SUGGEST_CANDIDATES as CANDIDATES


def load(folder: Path) -> tuple[list[CallSample], NDArray[np.bool_]]:
    """The queries as calls and whether each is a prospect's (target)."""
    prospects = set((folder / "prospect_intents.txt").read_text().split())
    with (folder / "train.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    samples = [CallSample(text=row["text"]) for row in rows]
    return samples, np.array([row["category"] in prospects for row in rows], dtype=bool)


def score(
    samples: list[CallSample], truth: NDArray[np.bool_], train: list[int], test: NDArray[np.int64]
) -> Counts:
    model = TargetModel().fit([samples[i] for i in train], [bool(truth[i]) for i in train])
    probability = model.probabilities([samples[i] for i in test])
    return counts_of(truth[test], probability >= 0.5)


def random_run(
    samples: list[CallSample],
    truth: NDArray[np.bool_],
    pool: NDArray[np.int64],
    test: NDArray[np.int64],
    sizes: list[int],
    rng: np.random.Generator,
) -> dict[int, Counts]:
    order = rng.permutation(pool)
    return {size: score(samples, truth, [int(i) for i in order[:size]], test) for size in sizes}


def active_run(
    samples: list[CallSample],
    truth: NDArray[np.bool_],
    pool: NDArray[np.int64],
    test: NDArray[np.int64],
    sizes: list[int],
    rng: np.random.Generator,
    start: int,
    batch: int,
) -> dict[int, Counts]:
    order = [int(i) for i in rng.permutation(pool)]
    labelled = order[:start]
    unlabelled = order[start:]
    results: dict[int, Counts] = {}
    for size in sizes:
        while len(labelled) < size:
            try:
                model: TargetModel | None = TargetModel().fit(
                    [samples[i] for i in labelled], [bool(truth[i]) for i in labelled]
                )
            except NotEnoughLabels:
                model = None  # as the product: before a model, suggestions by variety alone
            want = min(max(batch, len(labelled) // 10), size - len(labelled))
            # The product chooses among the most recent SUGGEST_CANDIDATES unlabelled calls;
            # here, as many drawn at random from the pool.
            candidates = [unlabelled[int(i)] for i in rng.permutation(len(unlabelled))[:CANDIDATES]]
            picks, _ = suggest_rows(model, [samples[i] for i in candidates], want)
            chosen = {candidates[p] for p in picks}
            labelled += [candidates[p] for p in picks]
            unlabelled = [i for i in unlabelled if i not in chosen]
        results[size] = score(samples, truth, labelled, test)
    return results


def summary(counts: list[Counts], held_out: int) -> dict[str, Estimate]:
    # Each repeat draws its own held-out set and labels from a pool of about 8,000, so
    # repeats share few training rows: a plain t interval (no overlap correction), widened to
    # the Wilson interval of one held-out set where that is wider.
    ratio = 0.0
    positives = float(np.mean([c.tp + c.fn for c in counts]))
    predicted = float(np.mean([c.tp + c.fp for c in counts]))
    return {
        "accuracy": estimate([c.accuracy() for c in counts], held_out, ratio),
        "precision": estimate([c.precision() for c in counts], predicted, ratio),
        "recall": estimate([c.recall() for c in counts], positives, ratio),
        "f1": estimate([c.f1() for c in counts], positives, ratio),
    }


def percent(value: Estimate) -> str:
    if value.mean is None or value.low is None or value.high is None:
        return "-"
    return f"{100 * value.mean:5.1f} [{100 * value.low:4.1f}, {100 * value.high:4.1f}]"


def timing(
    samples: list[CallSample], truth: NDArray[np.bool_], rng: np.random.Generator
) -> dict[str, float]:
    rows = rng.permutation(len(samples))
    train = [int(i) for i in rows[:1000]]
    other = [samples[int(i)] for i in rows[1000:3000]]
    started = time.perf_counter()
    model = TargetModel().fit([samples[i] for i in train], [bool(truth[i]) for i in train])
    train_seconds = time.perf_counter() - started
    model.probabilities(other[:10])  # warm
    started = time.perf_counter()
    for sample in other[:500]:
        model.probabilities([sample])
    one_by_one = (time.perf_counter() - started) / 500 * 1000
    started = time.perf_counter()
    model.probabilities(other)
    batched = (time.perf_counter() - started) / len(other) * 1000
    return {
        "train_1000_s": train_seconds,
        "label_ms_one_by_one": one_by_one,
        "label_ms_batched": batched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("RINGTRAIL_BANKING77"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="50,100,200,300,500")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--start", type=int, default=20)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--goal", default="0.85,0.88,0.90")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not args.data:
        sys.exit("name the banking77 folder: --data PATH or RINGTRAIL_BANKING77=PATH")
    samples, truth = load(Path(args.data))
    sizes = sorted(int(s) for s in args.sizes.split(","))
    goals = [float(g) for g in args.goal.split(",")]
    print(
        f"banking77 stand-in: {len(samples)} queries, {truth.mean():.1%} prospect (target);"
        f" {args.repeats} repeats, held-out {args.test}, sizes {sizes}"
    )
    started = time.perf_counter()
    runs: dict[str, dict[int, list[Counts]]] = {"random": {}, "active": {}}
    for repeat in range(args.repeats):
        rng = np.random.default_rng(args.seed + repeat)
        rows = rng.permutation(len(samples)).astype(np.int64)
        test, pool = rows[: args.test], rows[args.test :]
        for name, result in (
            ("random", random_run(samples, truth, pool, test, sizes, rng)),
            ("active", active_run(samples, truth, pool, test, sizes, rng, args.start, args.batch)),
        ):
            for size, counts in result.items():
                runs[name].setdefault(size, []).append(counts)
        print(
            f"  repeat {repeat + 1}/{args.repeats} done at {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    figures: dict[str, object] = {"repeats": args.repeats, "held_out": args.test}
    print(
        f"\n{'labels':>6} {'choice':>7}  {'accuracy %':>20} {'precision %':>20}"
        f" {'recall %':>20} {'F1 %':>20}"
    )
    for size in sizes:
        for name in ("random", "active"):
            s = summary(runs[name][size], args.test)
            figures[f"{name}_{size}"] = {k: v.__dict__ for k, v in s.items()}
            print(f"{size:>6} {name:>7}  " + " ".join(f"{percent(s[k]):>20}" for k in s))
    for goal in goals:
        reached = {}
        for name in ("random", "active"):
            means = [
                (size, np.mean([c.accuracy() or 0 for c in runs[name][size]])) for size in sizes
            ]
            reached[name] = next((size for size, mean in means if mean >= goal), None)
        figures[f"labels_for_{goal}"] = reached
        never = f"more than {sizes[-1]}"
        print(
            f"mean accuracy >= {goal:.0%}: random at {reached['random'] or never},"
            f" active at {reached['active'] or never} labels"
        )
    times = timing(samples, truth, np.random.default_rng(args.seed))
    figures["timing"] = times
    print(
        f"training on 1,000 labels: {times['train_1000_s']:.2f} s; labelling a call:"
        f" {times['label_ms_one_by_one']:.2f} ms one by one, {times['label_ms_batched']:.3f} ms"
        f" in a batch; whole run {time.perf_counter() - started:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
