"""Callbacks on SQLite and PostgreSQL: a later answered call settles a missed one in any
delivery order, either direction, national or international numbers; a person marks one
called back; later events never reopen it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.callbacks import mark_called_back
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.test_call_ingestion import STATIC, answered_call, ev

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CALLER = "+380501112233"
OTHER = "+380671112233"
NOW = T0 + timedelta(hours=5)


@pytest.fixture
def ingestion(db: Session, world: World, runtime: Runtime) -> CallIngestion:
    add_number(
        db,
        world.ours.project,
        {"number": STATIC, "kind": "static", "source": "flyer", "medium": "offline"},
    )
    db.commit()
    return CallIngestion(runtime.sessions, clock=lambda: NOW)


def missed_call(call: str, at: float, caller: str = CALLER) -> list[CallEvent]:
    return [
        ev(call, CallEventKind.STARTED, at, dialled=STATIC, caller=caller),
        ev(call, CallEventKind.ENDED, at + 30, outcome=CallOutcome.NO_ANSWER),
    ]


def calls_by_id(db: Session) -> dict[str, Call]:
    db.expire_all()
    return {call.provider_call_id: call for call in db.scalars(select(Call))}


def settled(call: Call) -> tuple[bool, str | None, int | None]:
    return call.needs_callback, call.callback_resolution, call.callback_call_id


SCENARIO = {
    "m1": missed_call("m1", 0),
    "m2": missed_call("m2", 600),
    "other": missed_call("other", 700, caller=OTHER),
    "a1": answered_call("a1", STATIC, caller=CALLER, at=1800),
    "a2": answered_call("a2", STATIC, caller="0501112233", at=3600),
}


@pytest.mark.parametrize(
    "order", list(itertools.permutations(SCENARIO))[::13], ids=lambda order: "-".join(order)
)
def test_the_earliest_later_answered_call_settles_whatever_the_delivery_order(
    db: Session, ingestion: CallIngestion, order: tuple[str, ...]
) -> None:
    for name in order:
        ingestion.ingest_many(SCENARIO[name])
    calls = calls_by_id(db)
    a1 = calls["a1"].id
    assert settled(calls["m1"]) == (False, "answered_call", a1)
    assert settled(calls["m2"]) == (False, "answered_call", a1)
    assert calls["m1"].callback_at == T0 + timedelta(seconds=1800)
    assert settled(calls["other"]) == (True, None, None)
    assert settled(calls["a2"]) == (False, None, None)


def test_a_call_that_becomes_answered_later_settles_the_missed_one(
    db: Session, ingestion: CallIngestion
) -> None:
    ingestion.ingest_many(missed_call("m1", 0))
    started, answered, ended = answered_call("a1", STATIC, at=900)
    ingestion.ingest(started)
    assert settled(calls_by_id(db)["m1"]) == (True, None, None)
    ingestion.ingest_many([answered, ended])
    calls = calls_by_id(db)
    assert settled(calls["m1"]) == (False, "answered_call", calls["a1"].id)


def test_an_outbound_answered_call_to_the_caller_settles_it(
    db: Session, world: World, ingestion: CallIngestion
) -> None:
    project = world.ours.project
    outbound = add_call(
        db,
        project,
        direction="outbound",
        caller_e164=STATIC,
        dialled_e164=CALLER,
        started_at=T0 + timedelta(minutes=20),
    )
    db.commit()
    ingestion.ingest_many(missed_call("m1", 0))
    assert settled(calls_by_id(db)["m1"]) == (False, "answered_call", outbound.id)


def test_an_earlier_or_unanswered_call_settles_nothing(
    db: Session, ingestion: CallIngestion
) -> None:
    ingestion.ingest_many(answered_call("a0", STATIC, at=-600))
    ingestion.ingest_many(missed_call("m1", 0))
    ingestion.ingest_many(missed_call("m2", 600))
    calls = calls_by_id(db)
    assert settled(calls["m1"]) == (True, None, None)
    assert settled(calls["m2"]) == (True, None, None)


def test_a_person_marks_it_called_back_and_later_events_keep_it_settled(
    db: Session, world: World, ingestion: CallIngestion
) -> None:
    ingestion.ingest_many(missed_call("m1", 0))
    call = calls_by_id(db)["m1"]
    user = world.ours.owner.id
    mark_called_back(db, world.ours.project.id, call.id, user, NOW)
    db.commit()
    ingestion.ingest(ev("m1", CallEventKind.RECORDING_READY, 40, recording_url="https://r/1"))
    ingestion.ingest_many(answered_call("a1", STATIC, at=900))
    call = calls_by_id(db)["m1"]
    assert settled(call) == (False, "called_back", None)
    assert (call.callback_user_id, call.callback_at) == (user, NOW)
    # Marking again changes nothing; a call that never owed one, or another project's, refuses.
    mark_called_back(db, world.ours.project.id, call.id, None, NOW + timedelta(hours=1))
    assert (call.callback_user_id, call.callback_at) == (user, NOW)
    answered = calls_by_id(db)["a1"]
    with pytest.raises(InvalidInput):
        mark_called_back(db, world.ours.project.id, answered.id, user, NOW)
    with pytest.raises(NotFound):
        mark_called_back(db, world.outsider.project.id, call.id, user, NOW)
