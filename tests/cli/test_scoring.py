"""`ringtrail scoring ...` on SQLite and PostgreSQL: train with a progress bar, read the
figures, switch on, set the threshold, suggest, roll back; refusals say why in one line."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World
from tests.scoring_data import add_labelled_calls, add_transcribed_call


def test_train_switch_on_threshold_suggest_and_roll_back(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    add_labelled_calls(db, project, 24)
    add_transcribed_call(db, project, "hello. how much is the flat")
    db.commit()
    pid = str(project.id)
    trained = backend_invoke("scoring", "train", "--project", pid, "--repeats", "2")
    assert trained.exit_code == 0, trained.output
    assert "accuracy" in trained.stdout and "95% CI" in trained.stdout
    assert "trained v1 trained: 24 labels (8 target)" in trained.stdout
    assert "training" in trained.stderr  # the progress bar
    evaluated = backend_invoke("scoring", "evaluate", "--project", pid, "--repeats", "2")
    assert evaluated.exit_code == 0 and "learning curve" in evaluated.stdout
    on = backend_invoke("scoring", "activate", "--project", pid)
    assert on.exit_code == 0 and "v1 active" in on.stdout
    threshold = backend_invoke("scoring", "threshold", "--project", pid, "0.8")
    assert threshold.exit_code == 0 and "threshold 0.80" in threshold.stdout
    suggested = backend_invoke("scoring", "suggest", "--project", pid, "--count", "3")
    assert suggested.exit_code == 0 and "uncertainty" in suggested.stdout
    status = backend_invoke("scoring", "status", "--project", pid)
    assert "the classifier is on" in status.stdout and "8 target, 16 not target" in status.stdout
    refused = backend_invoke("scoring", "rollback", "--project", pid)
    assert "v1 is the first version" in assert_one_error_line(refused, refused.exit_code)
    off = backend_invoke("scoring", "activate", "--project", pid, "--off")
    assert off.exit_code == 0 and "switched off" in off.stdout


def test_training_without_enough_labels_says_how_many_there_are(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    add_labelled_calls(db, world.ours.project, 4)
    db.commit()
    result = backend_invoke("scoring", "train", "--project", str(world.ours.project.id))
    line = assert_one_error_line(result, result.exit_code)
    assert result.exit_code != 0 and "2 target and 2 non-target" in line
