"""The classifier job on SQLite and PostgreSQL: the switched-on version judges ended calls once
(again when a transcript arrives), retrains as labels arrive, and one broken project does not
stop the others."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ringtrail.jobs.scoring import score_and_retrain
from ringtrail.runtime import Runtime
from ringtrail.services.scoring import (
    RETRAIN_AFTER,
    activate,
    scoring_status,
    set_threshold,
    train,
    transcript_text_of,
)
from ringtrail.storage.models import Call, CallTranscript
from tests.call_rows import add_call
from tests.conftest import World
from tests.scoring_data import add_labelled_calls, add_transcribed_call, trained_model

NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)


def test_the_job_labels_ended_calls_once_and_retrains_as_labels_arrive(
    runtime: Runtime, db: Session, world: World
) -> None:
    project = world.ours.project
    trained_model(db, world, NOW)
    activate(db, project.id, None, NOW)
    set_threshold(db, project.id, 0.5)
    new = add_transcribed_call(db, project, "скільки коштує квартира")
    db.commit()
    report = score_and_retrain(runtime.sessions, NOW)
    assert (report.judged, report.marked, report.trained, report.failed) == (1, 1, 0, 0)
    assert score_and_retrain(runtime.sessions, NOW).judged == 0  # judged once per version
    add_labelled_calls(db, project, RETRAIN_AFTER, seed=11)
    db.commit()
    report = score_and_retrain(runtime.sessions, NOW)
    assert report.trained == 1
    db.expire_all()
    state = scoring_status(db, project.id)
    assert [m.version for m in state.versions] == [2, 1]
    assert state.new_labels == 0
    db.refresh(new)
    assert new.target_set_by == "model"


def test_a_transcript_arriving_later_gets_the_call_judged_again(
    runtime: Runtime, db: Session, world: World
) -> None:
    project = world.ours.project
    trained_model(db, world, NOW)
    activate(db, project.id, None, NOW)
    set_threshold(db, project.id, 0.5)
    call = add_call(db, project)
    db.commit()
    assert score_and_retrain(runtime.sessions, NOW).judged == 1
    assert score_and_retrain(runtime.sessions, NOW).judged == 0
    db.add(CallTranscript(call_id=call.id, status="done", text="скільки коштує квартира",
                          updated_at=datetime.now(UTC)))  # fmt: skip
    db.commit()
    assert transcript_text_of(db, [call.id]) == {call.id: "скільки коштує квартира"}
    assert score_and_retrain(runtime.sessions, NOW).judged == 1
    db.expire_all()
    assert db.get(Call, call.id).target_set_by == "model"  # type: ignore[union-attr]


def test_a_project_whose_model_cannot_be_read_does_not_stop_the_others(
    runtime: Runtime, db: Session, world: World
) -> None:
    model = trained_model(db, world, NOW)
    activate(db, world.ours.project.id, None, NOW)
    add_labelled_calls(db, world.outsider.project, 24)
    other = train(db, world.outsider.project.id, NOW, repeats=2)
    activate(db, world.outsider.project.id, None, NOW)
    model.blob = b"not a model"
    add_transcribed_call(db, world.ours.project, "скільки коштує квартира")
    add_transcribed_call(db, world.outsider.project, "скільки коштує квартира")
    db.commit()
    report = score_and_retrain(runtime.sessions, NOW)
    assert report.failed == 1 and report.judged == 1 and other.status == "active"
