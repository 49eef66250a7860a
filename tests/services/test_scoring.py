"""The project's classifier on SQLite and PostgreSQL: trained on people's marks only, labels
only above its threshold, never over a person, versioned with rollback."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.call_judgement import judge_call
from ringtrail.services.call_marking import mark_target
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.scoring import (
    ModelUnavailable,
    activate,
    deactivate,
    labelled_calls,
    rollback,
    score_call,
    scoring_status,
    set_threshold,
    suggest,
    train,
)
from ringtrail.storage.models import CallScore
from tests.conftest import World
from tests.scoring_data import add_labelled_calls, add_transcribed_call, trained_model, transcript

NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)


def test_only_peoples_marks_are_labels(db: Session, world: World) -> None:
    project = world.ours.project
    person = add_labelled_calls(db, project, 3)
    by_rule = add_transcribed_call(db, project, "price of the flat")
    judge_call(db, by_rule, True, by="rule", detail="price rule")
    assert [c.id for c in labelled_calls(db, project.id)] == [c.id for c in person]


def test_too_few_labels_are_refused_saying_how_many_there_are(db: Session, world: World) -> None:
    add_labelled_calls(db, world.ours.project, 5)
    with pytest.raises(InvalidInput, match="2 target and 3 non-target"):
        train(db, world.ours.project.id, NOW)


def test_a_trained_version_is_measured_and_stays_off(db: Session, world: World) -> None:
    model = trained_model(db, world, NOW)
    assert (model.version, model.status, model.labels, model.targets) == (1, "trained", 30, 10)
    assert model.metrics["accuracy"]["mean"] > 0.8
    assert model.expected_accuracy is not None
    call = add_transcribed_call(db, world.ours.project, "скільки коштує квартира")
    assert score_call(db, call, NOW) is False  # off: nothing labelled
    assert call.is_target is None


def test_switched_on_it_labels_sure_calls_and_leaves_unsure_ones(db: Session, world: World) -> None:
    project = world.ours.project
    trained_model(db, world, NOW)
    activate(db, project.id, None, NOW)
    set_threshold(db, project.id, 0.6)
    sure = add_transcribed_call(db, project, "хочу купить квартиру. сколько стоит квартира")
    assert score_call(db, sure, NOW) is True
    assert (sure.is_target, sure.target_set_by) == (True, "model")
    score = db.scalars(select(CallScore).where(CallScore.call_id == sure.id)).one()
    assert score.model_version == "v1" and score.score is not None and score.score >= 0.6
    set_threshold(db, project.id, 0.99)
    vague = add_transcribed_call(db, project, "hello. okay")
    assert score_call(db, vague, NOW) is False
    assert vague.is_target is None
    kept = db.scalars(select(CallScore).where(CallScore.call_id == vague.id)).one()
    assert kept.label == "unsure"


def test_a_persons_mark_wins_over_the_model(db: Session, world: World) -> None:
    project = world.ours.project
    trained_model(db, world, NOW)
    activate(db, project.id, None, NOW)
    set_threshold(db, project.id, 0.5)
    call = add_transcribed_call(db, project, "скільки коштує квартира")
    score_call(db, call, NOW)
    mark_target(db, project.id, call.id, world.ours.owner.id, False)
    assert score_call(db, call, NOW) is False
    assert (call.is_target, call.target_set_by) == (False, "user")


def test_threshold_carries_the_accuracy_measured_at_it(db: Session, world: World) -> None:
    project = world.ours.project
    model = trained_model(db, world, NOW)
    changed = set_threshold(db, project.id, 0.7)
    row = next(r for r in model.metrics["thresholds"] if r["threshold"] == 0.7)
    assert changed.threshold == 0.7 and changed.expected_accuracy == row["expected_accuracy"]
    with pytest.raises(InvalidInput, match=r"between 0\.5 and 0\.99"):
        set_threshold(db, project.id, 1.5)


def test_rollback_switches_the_previous_version_back_on(db: Session, world: World) -> None:
    project = world.ours.project
    trained_model(db, world, NOW)
    activate(db, project.id, 1, NOW)
    with pytest.raises(ModelUnavailable, match="first version"):
        rollback(db, project.id, NOW)
    second = train(db, project.id, NOW, repeats=2)
    activate(db, project.id, second.version, NOW)
    back = rollback(db, project.id, NOW)
    assert back.version == 1 and back.status == "active"
    assert second.status == "retired"
    deactivate(db, project.id)
    with pytest.raises(ModelUnavailable, match="nothing to roll back"):
        rollback(db, project.id, NOW)
    with pytest.raises(NotFound):
        activate(db, project.id, 9, NOW)


def test_another_projects_versions_are_out_of_reach(db: Session, world: World) -> None:
    trained_model(db, world, NOW)
    with pytest.raises(ModelUnavailable):
        activate(db, world.outsider.project.id, None, NOW)
    assert scoring_status(db, world.outsider.project.id).versions == []


def test_suggestions_change_once_a_suggested_call_is_labelled(db: Session, world: World) -> None:
    project = world.ours.project
    trained_model(db, world, NOW)
    rng = random.Random(3)
    for index in range(12):
        add_transcribed_call(db, project, transcript(rng, index % 2 == 0) + " hello okay")
    first = suggest(db, project.id, 5)
    assert len(first) == 5 and all(s.probability is not None for s in first)
    assert next(s.uncertainty for s in first) == max(s.uncertainty for s in first)
    mark_target(db, project.id, first[0].call_id, None, True)
    again = suggest(db, project.id, 5)
    assert first[0].call_id not in {s.call_id for s in again}


def test_before_any_model_suggestions_come_by_variety(db: Session, world: World) -> None:
    project = world.ours.project
    add_transcribed_call(db, project, "price of the flat")
    add_transcribed_call(db, project, "refund for the repair")
    picks = suggest(db, project.id, 5)
    assert len(picks) == 2 and all(s.probability is None for s in picks)
