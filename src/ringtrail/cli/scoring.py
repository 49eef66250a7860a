"""`ringtrail scoring ...`: the target-call classifier from the command line.

`train` measures a model on held-out labels and keeps it as a new version; `evaluate`
measures without keeping; `suggest` lists the calls to label next; `activate`, `threshold`,
`rollback` and `status` switch it on, set how sure it must be, go back a version and show
where it stands. Training and evaluation show a progress bar on stderr.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from tqdm import tqdm

from ringtrail.cli.context import transaction
from ringtrail.cli.lookup import ProjectOption, find_project, print_table
from ringtrail.scoring.evaluation import DEFAULT_REPEATS, Estimate, Evaluation, Progress
from ringtrail.services.scoring import (
    activate,
    deactivate,
    evaluate_project,
    evaluation_of,
    rollback,
    scoring_status,
    set_threshold,
    suggest,
    train,
    version_name,
)
from ringtrail.storage.models import ScoringModel
from ringtrail.storage.models.base import utcnow

app = typer.Typer(
    help="The target-call classifier: train, measure, switch on, roll back.", no_args_is_help=True
)
RepeatsOption = Annotated[
    int, typer.Option(min=1, max=50, help="Random held-out splits to measure on.")
]
VersionOption = Annotated[
    int | None, typer.Option("--version", min=1, help="The version (default: the latest).")
]


@contextmanager
def _bar(description: str) -> Iterator[Progress]:
    bars: list[tqdm] = []  # made at the first fit, so a refusal prints no empty bar

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=description, unit="fit", leave=False))
        bars[0].total = total
        bars[0].n = done
        bars[0].refresh()

    try:
        yield progress
    finally:
        for bar in bars:
            bar.close()


def _pct(value: Estimate) -> str:
    if value.mean is None or value.low is None or value.high is None:
        return "-"
    return f"{100 * value.mean:.1f}% (95% CI {100 * value.low:.1f}-{100 * value.high:.1f})"


def _echo_evaluation(evaluation: Evaluation) -> None:
    typer.echo(
        f"measured on {evaluation.labels} labelled calls ({evaluation.targets} target), "
        f"{evaluation.repeats} random splits holding out {evaluation.held_out} calls each"
    )
    for name in ("accuracy", "precision", "recall", "f1"):
        typer.echo(f"  {name:<9} {_pct(getattr(evaluation, name))}")
    c = evaluation.confusion
    typer.echo(
        f"  held-out predictions: {c['tp']} target right, {c['tn']} non-target right, "
        f"{c['fp']} non-target called target, {c['fn']} target missed"
    )
    typer.echo("  learning curve (labels: accuracy): " + ", ".join(
        f"{p.labels}: {_pct(p.accuracy)}" for p in evaluation.curve
    ))  # fmt: skip
    print_table(
        ["threshold", "labels", "expected accuracy"],
        [
            [
                f"{row.threshold:.2f}",
                f"{100 * row.coverage:.0f}% of calls",
                "-" if row.expected_accuracy is None else f"{100 * row.expected_accuracy:.1f}%",
            ]
            for row in evaluation.thresholds
            if round(row.threshold * 100) % 5 == 0 or row.threshold == 0.99
        ],
    )


def _line(model: ScoringModel) -> str:
    expected = (
        "not measured"
        if model.expected_accuracy is None
        else f"{100 * model.expected_accuracy:.1f}%"
    )
    return (
        f"{version_name(model)} {model.status}: {model.labels} labels ({model.targets} target),"
        f" threshold {model.threshold:.2f}, expected accuracy there {expected}"
    )


@app.command("train")
def train_(project: ProjectOption, repeats: RepeatsOption = DEFAULT_REPEATS) -> None:
    """Measure a model on the project's labels, then keep it as a new version (not yet on)."""
    with transaction() as db, _bar("training") as progress:
        find_project(db, project)
        model = train(db, project, utcnow(), repeats=repeats, progress=progress)
        evaluation = evaluation_of(model)
        line = _line(model)
    _echo_evaluation(evaluation)
    typer.echo(f"trained {line}; `ringtrail scoring activate` switches it on")


@app.command("evaluate")
def evaluate_(project: ProjectOption, repeats: RepeatsOption = DEFAULT_REPEATS) -> None:
    """Measure a model on the project's labels without keeping it."""
    with transaction() as db, _bar("evaluating") as progress:
        find_project(db, project)
        evaluation = evaluate_project(db, project, repeats=repeats, progress=progress)
    _echo_evaluation(evaluation)


@app.command("suggest")
def suggest_(
    project: ProjectOption,
    count: Annotated[int, typer.Option("--count", min=1, max=200, help="How many.")] = 10,
) -> None:
    """The calls to label next, most informative first."""
    with transaction() as db:
        find_project(db, project)
        picks = suggest(db, project, count)
    if not picks:
        typer.echo("no call to suggest: every ended call is labelled by a person, or none ended")
        return
    print_table(
        ["call", "model's P(target)", "uncertainty"],
        [
            [
                str(s.call_id),
                "no model yet" if s.probability is None else f"{s.probability:.2f}",
                f"{s.uncertainty:.2f}",
            ]
            for s in picks
        ],
    )


@app.command("activate")
def activate_(
    project: ProjectOption,
    version: VersionOption = None,
    off: Annotated[bool, typer.Option("--off", help="Switch the classifier off.")] = False,
) -> None:
    """Switch a version on (it labels calls above its threshold), or off with --off."""
    with transaction() as db:
        find_project(db, project)
        if off:
            line = _line(deactivate(db, project))
        else:
            line = _line(activate(db, project, version, utcnow()))
    typer.echo(f"switched off; {line}" if off else line)


@app.command("threshold")
def threshold_(
    project: ProjectOption,
    value: Annotated[float, typer.Argument(help="Confidence needed to label, 0.5 to 0.99.")],
    version: VersionOption = None,
) -> None:
    """Set how sure the model must be to label a call (on the active version, else the latest)."""
    with transaction() as db:
        find_project(db, project)
        line = _line(set_threshold(db, project, value, version))
    typer.echo(line)


@app.command("rollback")
def rollback_(project: ProjectOption) -> None:
    """Retire the switched-on version and switch the one before it on."""
    with transaction() as db:
        find_project(db, project)
        line = _line(rollback(db, project, utcnow()))
    typer.echo(f"rolled back: {line}")


@app.command("status")
def status_(project: ProjectOption) -> None:
    """Labels, versions and what the model has labelled."""
    with transaction() as db:
        find_project(db, project)
        state = scoring_status(db, project)
        lines = [_line(model) for model in state.versions]
    typer.echo(
        f"labels by people: {state.labels.targets} target, {state.labels.non_targets} not target"
        f" ({state.new_labels} since the latest version); calls now labelled by the model:"
        f" {state.labelled_by_model}"
    )
    typer.echo("the classifier is " + ("on" if state.active else "off"))
    for line in lines or ["no version trained yet"]:
        typer.echo(f"  {line}")
