"""Quality rules on stored calls: kept and ordered, applied with who set each tag and mark, a
person's mark and a person's tag removal always winning, run again after a transcript, on
ended calls as they are ingested, on past calls, and saying why a rule did nothing."""

# ruff: noqa: RUF001  (Ukrainian phrases on purpose)
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.call_judgement import judge_call
from ringtrail.services.call_marking import mark_target, set_tags
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.quality_rules import (
    RuleInput,
    apply_quality_rules,
    backfill,
    delete_rule,
    explain_rule,
    list_rules,
    move_rule,
    save_rule,
)
from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call, CallScore, CallTag, CallTagRemoval, Tag
from ringtrail.storage.models.transcripts import CallTranscript
from tests.call_rows import T0, add_call
from tests.conftest import World

NOW = T0 + timedelta(hours=1)
LONG = RuleInput("Long calls", {"talk_at_least": 30}, add_tags=["long"], mark="target")
SHORT = RuleInput("Short calls", {"talk_under": 10}, mark="non_target")
PRICE = RuleInput("Price question", {"phrases_any": ["ціна"]}, add_tags=["price"])


def tags_of(db: Session, call: Call) -> dict[str, str]:
    rows = db.execute(
        select(Tag.name, CallTag.set_by)
        .join(Tag, Tag.id == CallTag.tag_id)
        .where(CallTag.call_id == call.id)
    )
    return {str(name): str(set_by) for name, set_by in rows}


def history(db: Session, call: Call) -> list[tuple[str, str, str | None]]:
    rows = db.scalars(select(CallScore).where(CallScore.call_id == call.id).order_by(CallScore.id))
    return [(row.scored_by, row.label, row.model_version) for row in rows]


def test_rules_are_kept_in_order_checked_and_project_scoped(db: Session, world: World) -> None:
    project = world.ours.project.id
    long = save_rule(db, project, LONG, NOW)
    short = save_rule(db, project, SHORT, NOW)
    assert [r.name for r in list_rules(db, project)] == ["Long calls", "Short calls"]
    move_rule(db, project, short.id, 1)
    assert [r.id for r in list_rules(db, project)] == [short.id, long.id]
    with pytest.raises(InvalidInput, match="another rule"):
        save_rule(db, project, RuleInput("long CALLS", {}, mark="target"), NOW)
    with pytest.raises(InvalidInput, match="neither adds a tag nor marks") as error:
        save_rule(db, project, RuleInput("Idle", {"answered": True}), NOW)
    assert error.value.field == "actions"
    with pytest.raises(InvalidInput) as error:
        save_rule(db, project, RuleInput("Bad", {"talk_at_least": "x"}, mark="target"), NOW)
    assert error.value.field == "talk_at_least"
    with pytest.raises(NotFound):
        delete_rule(db, world.outsider.project.id, long.id)
    delete_rule(db, project, long.id)
    assert [r.id for r in list_rules(db, project)] == [short.id]


def test_a_rule_tags_and_marks_with_provenance_and_again_changes_nothing(
    db: Session, world: World
) -> None:
    project = world.ours.project
    rule = save_rule(db, project.id, LONG, NOW)
    call = add_call(db, project)
    changes = apply_quality_rules(db, call, NOW)
    assert changes == [
        f"tag 'long' by rule:{rule.id} Long calls",
        f"target by rule:{rule.id} Long calls",
    ]
    assert (call.is_target, call.target_set_by) == (True, "rule")
    assert tags_of(db, call) == {"long": "rule"}
    assert history(db, call) == [("rule", "target", f"rule:{rule.id} Long calls")]
    assert apply_quality_rules(db, call, NOW) == []
    assert len(history(db, call)) == 1
    assert rule.matched_calls == 1 and rule.last_matched_at == NOW


def test_a_call_still_in_progress_is_left_alone(db: Session, world: World) -> None:
    save_rule(db, world.ours.project.id, LONG, NOW)
    call = add_call(db, world.ours.project, ended_at=None)
    assert apply_quality_rules(db, call, NOW) == []


judges = st.sampled_from(["rule", "model"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    person=st.sampled_from([True, False]),
    before=st.lists(st.tuples(judges, st.booleans()), max_size=3),
    after=st.lists(st.tuples(judges, st.booleans()), max_size=4),
    rule_runs=st.integers(0, 2),
)
def test_a_persons_mark_is_never_changed_by_a_rule_or_the_model(
    db: Session,
    world: World,
    person: bool,
    before: list[tuple[str, bool]],
    after: list[tuple[str, bool]],
    rule_runs: int,
) -> None:
    project = world.ours.project
    if not list_rules(db, project.id):
        save_rule(db, project.id, LONG, NOW)
        save_rule(db, project.id, RuleInput("Never", {"talk_under": 1}, mark="non_target"), NOW)
    call = add_call(db, project, talk_seconds=90)
    for by, value in before:
        judge_call(db, call, value, by=by, detail="x")  # type: ignore[arg-type]
    mark_target(db, project.id, call.id, world.ours.owner.id, person)
    for by, value in after:
        judge_call(db, call, value, by=by, detail="y")  # type: ignore[arg-type]
        for _ in range(rule_runs):
            apply_quality_rules(db, call, NOW)
    apply_quality_rules(db, call, NOW)
    assert (call.is_target, call.target_set_by) == (person, "user")


def test_a_person_cleared_mark_is_not_redone_by_the_rule(db: Session, world: World) -> None:
    project = world.ours.project
    save_rule(db, project.id, LONG, NOW)
    call = add_call(db, project)
    apply_quality_rules(db, call, NOW)
    mark_target(db, project.id, call.id, world.ours.owner.id, None)
    apply_quality_rules(db, call, NOW)
    assert (call.is_target, call.target_set_by) == (None, None)


def test_a_tag_a_person_took_off_is_not_put_back_until_they_add_it(
    db: Session, world: World
) -> None:
    project = world.ours.project
    save_rule(db, project.id, RuleInput("Tagger", {}, add_tags=["long", "lead"]), NOW)
    call = add_call(db, project)
    apply_quality_rules(db, call, NOW)
    set_tags(db, project.id, call.id, ["lead", "vip"], world.ours.owner.id)
    assert tags_of(db, call) == {"lead": "rule", "vip": "user"}
    removal = db.scalars(select(CallTagRemoval)).one()
    assert removal.user_id == world.ours.owner.id
    assert apply_quality_rules(db, call, NOW) == []
    assert tags_of(db, call) == {"lead": "rule", "vip": "user"}
    set_tags(db, project.id, call.id, ["lead", "vip", "long"])
    assert tags_of(db, call)["long"] == "user"
    assert db.scalar(select(func.count()).select_from(CallTagRemoval)) == 0


def add_transcript(db: Session, call: Call, text: str, status: str = "done") -> None:
    db.add(CallTranscript(call_id=call.id, status=status, text=text, language="uk"))
    db.flush()


def test_a_phrase_rule_acts_once_the_transcript_is_ready(db: Session, world: World) -> None:
    project = world.ours.project
    rule = save_rule(db, project.id, PRICE, NOW)
    call = add_call(db, project)
    assert apply_quality_rules(db, call, NOW) == []
    report = explain_rule(db, project.id, rule.id, date(2025, 3, 1), date(2025, 3, 1))
    assert report.reasons == [("no transcript yet", 1)]
    add_transcript(db, call, "Добрий день, а яка у вас ціною доставка?")
    assert apply_quality_rules(db, call, NOW) == [f"tag 'price' by rule:{rule.id} Price question"]


def test_why_a_rule_did_nothing(db: Session, world: World) -> None:
    project = world.ours.project
    rule = save_rule(
        db,
        project.id,
        RuleInput(
            "Ads only",
            {"text": [{"field": "source", "op": "equals", "value": "google"}]},
            mark="target",
        ),
        NOW,
    )
    for _ in range(3):
        add_call(db, project, source="flyer")
    report = explain_rule(db, project.id, rule.id, date(2025, 3, 1), date(2025, 3, 1))
    assert (report.calls, report.matched) == (3, 0)
    assert report.reasons == [("source", 3)]
    assert "No call of 3 matched" in report.summary and "source (3)" in report.summary
    rule.enabled = False
    off = explain_rule(db, project.id, rule.id, date(2025, 3, 1), date(2025, 3, 1))
    assert "switched off" in off.summary


def test_backfill_applies_to_the_past_calls_of_the_period_only(db: Session, world: World) -> None:
    project = world.ours.project
    save_rule(db, project.id, LONG, NOW)
    inside = [add_call(db, project) for _ in range(3)]
    outside = add_call(db, project, started_at=T0 + timedelta(days=3))
    kept = inside[0]
    mark_target(db, project.id, kept.id, world.ours.owner.id, False)
    result = backfill(db, project.id, date(2025, 3, 1), date(2025, 3, 2), NOW)
    assert (result.calls, result.changed_calls, result.marks_set) == (3, 3, 2)
    assert result.tags_added == 3 and result.kept_by_person == 1
    assert outside.is_target is None
    assert (kept.is_target, kept.target_set_by) == (False, "user")
    with pytest.raises(InvalidInput, match="ends before"):
        backfill(db, project.id, date(2025, 3, 2), date(2025, 3, 1), NOW)


def test_rules_run_when_ingestion_ends_a_call(db: Session, world: World, runtime: Runtime) -> None:
    project = world.ours.project
    add_number(db, project, {"number": "+380441230001", "kind": "static", "source": "flyer"})
    rule = save_rule(db, project.id, LONG, NOW)
    db.commit()
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def event(kind: CallEventKind, seconds: int, **kw: object) -> CallEvent:
        return CallEvent(
            provider="test",
            provider_call_id="c1",
            kind=kind,
            occurred_at=start + timedelta(seconds=seconds),
            dedupe_key=f"test:c1:{kind.value}",
            **kw,  # type: ignore[arg-type]
        )

    ingestion = CallIngestion(runtime.sessions, clock=lambda: start + timedelta(minutes=5))
    ingestion.ingest_many(
        [
            event(CallEventKind.STARTED, 0, dialled="+380441230001", caller="+380501112233"),
            event(CallEventKind.ANSWERED, 10),
        ]
    )
    db.expire_all()
    assert db.scalars(select(Call)).one().is_target is None
    ingestion.ingest(event(CallEventKind.ENDED, 70, outcome=CallOutcome.ANSWERED))
    db.expire_all()
    call = db.scalars(select(Call)).one()
    assert (call.is_target, call.target_set_by) == (True, "rule")
    assert history(db, call) == [("rule", "target", f"rule:{rule.id} Long calls")]
