"""Marking calls: target marks kept as history and copied to the lead, tags, comments, deal
value, the rollup day marked changed, and another project's call never touched."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ringtrail.services import call_judgement, call_marking
from ringtrail.services.call_marking import (
    add_comment,
    list_comments,
    mark_target,
    read_deal_value,
    set_deal_value,
    set_tags,
)
from ringtrail.services.calls import get_call
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import Call, CallScore, Lead, Tag
from tests.call_rows import T0, add_call, tag_call
from tests.conftest import World

DAY = timedelta(days=1)


@pytest.fixture
def changed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[datetime]]]:
    """Every `mark_calls_changed` call the marking service makes."""
    seen: list[tuple[int, list[datetime]]] = []

    def record(db: Session, project_id: int, started_ats: Any) -> None:
        seen.append((project_id, list(started_ats)))

    monkeypatch.setattr(call_marking, "mark_calls_changed", record)
    monkeypatch.setattr(call_judgement, "mark_calls_changed", record)
    return seen


def test_marking_target_sets_the_flag_records_a_score_and_copies_to_the_lead(
    db: Session, world: World, changed: list[tuple[int, list[datetime]]]
) -> None:
    project = world.ours.project
    call = add_call(db, project)
    lead = Lead(project_id=project.id, kind="call", call_id=call.id, created_at=T0 + DAY)
    db.add(lead)
    db.flush()
    call.lead_id = lead.id
    db.commit()
    user = world.ours.owner.id
    for value in (True, False, None):
        mark_target(db, project.id, call.id, user, value)
        db.commit()
        db.refresh(call)
        db.refresh(lead)
        assert (call.is_target, lead.is_target) == (value, value)
    assert call.target_set_by is None
    scores = db.query(CallScore).filter_by(call_id=call.id).order_by(CallScore.id).all()
    assert [(s.label, s.scored_by, s.user_id) for s in scores] == [
        ("target", "user", user),
        ("non_target", "user", user),
        ("cleared", "user", user),
    ]
    # The lead counts on its own day, so both days are marked.
    assert changed == [(project.id, [T0, T0 + DAY])] * 3
    assert [s.label for s in get_call(db, project, call.id).scores] == [
        "target",
        "non_target",
        "cleared",
    ]


def test_a_mark_is_set_by_the_user(db: Session, world: World) -> None:
    call = add_call(db, world.ours.project)
    mark_target(db, world.ours.project.id, call.id, None, True)
    assert call.target_set_by == "user"


def test_a_lead_made_by_another_call_keeps_its_own_mark(db: Session, world: World) -> None:
    project = world.ours.project
    first = add_call(db, project)
    repeat = add_call(db, project)
    lead = Lead(project_id=project.id, kind="call", call_id=first.id, is_target=False)
    db.add(lead)
    db.flush()
    repeat.lead_id = lead.id
    mark_target(db, project.id, repeat.id, None, True)
    db.flush()
    assert lead.is_target is False


def test_tags_are_replaced_trimmed_deduplicated_and_created_for_the_project(
    db: Session, world: World, changed: list[tuple[int, list[datetime]]]
) -> None:
    project = world.ours.project
    call = add_call(db, project)
    tag_call(db, call, "old")
    assert set_tags(db, project.id, call.id, ["  price ", "spam", "price", "", " "]) == [
        "price",
        "spam",
    ]
    db.commit()
    assert get_call(db, project, call.id).tags == ["price", "spam"]
    assert {t.name for t in db.query(Tag).filter_by(project_id=project.id)} == {
        "old",
        "price",
        "spam",
    }
    assert set_tags(db, project.id, call.id, []) == []
    assert get_call(db, project, call.id).tags == []
    assert len(changed) == 2
    set_tags(db, project.id, call.id, [])
    assert len(changed) == 2  # nothing changed, nothing to rebuild


def test_tag_limits(db: Session, world: World) -> None:
    call = add_call(db, world.ours.project)
    with pytest.raises(InvalidInput):
        set_tags(db, world.ours.project.id, call.id, ["x" * 101])
    with pytest.raises(InvalidInput):
        set_tags(db, world.ours.project.id, call.id, [f"t{i}" for i in range(21)])
    assert set_tags(db, world.ours.project.id, call.id, [f"t{i}" for i in range(20)])


def test_comments_are_kept_in_order_with_their_author(db: Session, world: World) -> None:
    project = world.ours.project
    call = add_call(db, project)
    owner = world.ours.owner
    add_comment(db, project.id, call.id, owner.id, "  first  ")
    add_comment(db, project.id, call.id, None, "second")
    db.commit()
    assert [c.body for c in list_comments(db, project.id, call.id)] == ["first", "second"]
    detail = get_call(db, project, call.id)
    assert [(c.body, c.author) for c in detail.comments] == [
        ("first", owner.name),
        ("second", None),
    ]
    for body in ("", "   ", "x" * 4001):
        with pytest.raises(InvalidInput):
            add_comment(db, project.id, call.id, owner.id, body)


def test_deal_value_is_set_cleared_and_never_negative(
    db: Session, world: World, changed: list[tuple[int, list[datetime]]]
) -> None:
    project = world.ours.project
    call = add_call(db, project)
    set_deal_value(db, project.id, call.id, Decimal("1250.505"))
    db.commit()
    assert db.get(Call, call.id).deal_value == pytest.approx(1250.5)  # type: ignore[union-attr]
    set_deal_value(db, project.id, call.id, None)
    assert call.deal_value is None
    for bad in (Decimal("-0.01"), Decimal("NaN"), Decimal("1e16")):
        with pytest.raises(InvalidInput):
            set_deal_value(db, project.id, call.id, bad)
    assert len(changed) == 2


def test_deal_values_are_read_as_people_type_them() -> None:
    assert read_deal_value("1 250,50") == Decimal("1250.50")
    assert read_deal_value("  ") is None
    with pytest.raises(InvalidInput):
        read_deal_value("a lot")


def test_another_projects_call_cannot_be_marked(db: Session, world: World) -> None:
    theirs = add_call(db, world.outsider.project)
    ours = world.ours.project.id
    with pytest.raises(NotFound):
        mark_target(db, ours, theirs.id, None, True)
    with pytest.raises(NotFound):
        set_tags(db, ours, theirs.id, ["spam"])
    with pytest.raises(NotFound):
        add_comment(db, ours, theirs.id, None, "hello")
    with pytest.raises(NotFound):
        set_deal_value(db, ours, theirs.id, Decimal(1))
    with pytest.raises(NotFound):
        mark_target(db, ours, 987654, None, True)
    db.refresh(theirs)
    assert theirs.is_target is None
    assert db.query(Tag).filter_by(project_id=ours).count() == 0
