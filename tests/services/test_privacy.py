"""Erasing a caller: the number is gone from every table and the recording files, the request
is logged (with a salted hash, never the number), and a second run finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import JSON, String, Text, cast, select
from sqlalchemy.orm import Session

from ringtrail.domain.privacy import phone_digest
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.services.audit import Actor, act_as
from ringtrail.services.errors import InvalidInput
from ringtrail.services.privacy import digest_salt, erase_caller
from ringtrail.storage.models import (
    AuditEntry,
    Base,
    Call,
    CallComment,
    CallEvent,
    Deal,
    Lead,
    OutboundDelivery,
    Recording,
    Visit,
    Visitor,
)
from tests.conftest import World
from tests.recordings.rows import AUDIO

NUMBER = "+380501234567"
DIGITS = NUMBER[1:]
OTHER = "+380671112233"
AT = datetime(2025, 3, 1, 10, tzinfo=UTC)
SALT = digest_salt("test-secret")


def where_the_number_is(db: Session) -> list[str]:
    """Every table.column (text or JSON, of every table in the metadata) holding the digits."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if (
                not isinstance(column.type, String | Text | JSON)
                and "JSON" not in str(column.type.__class__.__name__).upper()
            ):
                continue
            hit = db.execute(
                select(column)
                .where(cast(column, String).contains(DIGITS, autoescape=True))
                .limit(1)
            ).first()
            if hit is not None:
                found.append(f"{table.name}.{column.name}")
    return found


def _seed(db: Session, world: World, store: RecordingStore) -> tuple[list[str], int]:
    """The caller's trail in our project (and one other caller's), with a stored recording."""
    project = world.ours.project
    visitor = Visitor(
        project_id=project.id, public_id="cookie-1", first_seen_at=AT, last_seen_at=AT
    )
    db.add(visitor)
    db.flush()
    visit = Visit(
        project_id=project.id,
        visitor_id=visitor.id,
        started_at=AT,
        last_seen_at=AT,
        landing_url="https://acme.example/",
    )
    form_visit = Visit(
        project_id=project.id,
        visitor_id=visitor.id,
        started_at=AT,
        last_seen_at=AT,
        landing_url=f"https://acme.example/thanks?phone={DIGITS}",
    )
    db.add_all([visit, form_visit])
    db.flush()
    keys = []
    calls = []
    for n, caller in enumerate((NUMBER, NUMBER, OTHER)):
        call = Call(
            project_id=project.id,
            provider="binotel",
            provider_call_id=f"c{n}",
            caller_e164=caller,
            dialled_e164="+380441234567",
            started_at=AT + timedelta(hours=n),
            status="answered",
            visitor_id=visitor.id if caller == NUMBER else None,
            visit_id=visit.id if caller == NUMBER else None,
        )
        db.add(call)
        db.flush()
        calls.append(call)
        db.add(
            CallEvent(
                project_id=project.id,
                call_id=call.id,
                provider="binotel",
                dedupe_key=f"e{n}",
                event_type="started",
                occurred_at=AT,
                received_at=AT,
                payload={"externalNumber": caller.lstrip("+")},
            )
        )
        key = f"p{project.id}/c{call.id}/r-{n}.mp3"
        store.put(key, AUDIO, "audio/mpeg")
        db.add(
            Recording(
                call_id=call.id,
                status="stored",
                storage_key=key,
                transcript=f"call me on {caller}",
                provider_url=f"https://media.example/{caller}.mp3",
            )
        )
        db.add(CallComment(call_id=call.id, body=f"asked to call back {caller}"))
        keys.append(key)
    db.add(CallComment(call_id=calls[2].id, body=f"the same family as {NUMBER}"))
    db.add(
        CallEvent(
            project_id=project.id,
            call_id=None,
            provider="binotel",
            dedupe_key="orphan",
            event_type="started",
            occurred_at=AT,
            received_at=AT,
            payload={"from": DIGITS},
        )
    )
    lead = Lead(
        project_id=project.id,
        kind="form",
        phone_e164=NUMBER,
        name="Caller",
        visitor_id=visitor.id,
        payload={"phone": NUMBER},
    )
    db.add(lead)
    db.flush()
    db.add(
        Deal(
            project_id=project.id,
            external_id="D1",
            phone_e164=NUMBER,
            currency="UAH",
            revenue=Decimal("10"),
        )
    )
    db.add(
        Deal(
            project_id=project.id,
            external_id="D2",
            call_id=calls[0].id,
            currency="UAH",
            revenue=Decimal("5"),
        )
    )
    db.add(
        OutboundDelivery(
            project_id=project.id,
            destination="crm",
            subject_kind="call",
            subject_id=calls[0].id,
            event_name="call",
            payload={"phone": NUMBER},
        )
    )
    db.add(
        OutboundDelivery(
            project_id=project.id,
            destination="crm",
            subject_kind="lead",
            subject_id=lead.id,
            event_name="lead",
            payload={},
        )
    )
    db.add(
        OutboundDelivery(
            project_id=project.id,
            destination="ga4",
            subject_kind="deal",
            subject_id=1,
            event_name="x",
            payload={"user_phone": DIGITS},
        )
    )
    db.commit()
    return keys, calls[2].id


@pytest.fixture
def store(runtime: Runtime) -> RecordingStore:
    return make_store(runtime.settings)


def test_erasure_removes_the_number_from_every_table_and_file(
    db: Session, world: World, store: RecordingStore
) -> None:
    keys, other_call = _seed(db, world, store)
    assert set(where_the_number_is(db)) >= {"calls.caller_e164", "recordings.transcript"}

    act_as(db, Actor("user", world.ours.owner.id))
    report = erase_caller(db, store, world.ours.project, "050 123 45 67", salt=SALT)
    db.commit()

    assert where_the_number_is(db) == []
    assert [store.exists(key) for key in keys] == [False, False, True]
    assert db.get(Call, other_call) is not None
    assert report.removed["calls"] == 2 and report.removed["recordings"] == 2
    assert report.removed["visitors"] == 1 and report.removed["deals"] == 2
    assert report.removed["outbound_deliveries"] == 3
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase")).one()
    assert (entry.actor_kind, entry.actor_id) == ("user", world.ours.owner.id)
    assert entry.subject_digest == phone_digest(NUMBER, SALT)
    assert entry.changes["removed"] == report.removed


def test_erasing_again_says_nothing_was_left_and_is_logged_again(
    db: Session, world: World, store: RecordingStore
) -> None:
    _seed(db, world, store)
    erase_caller(db, store, world.ours.project, NUMBER, salt=SALT)
    db.commit()
    again = erase_caller(db, store, world.ours.project, NUMBER, salt=SALT)
    db.commit()
    assert again.nothing_left and again.removed == {}
    digests = db.scalars(
        select(AuditEntry.subject_digest).where(AuditEntry.action == "privacy.erase")
    ).all()
    assert len(digests) == 2 and len(set(digests)) == 1


def test_erasure_stays_inside_the_project(db: Session, world: World, store: RecordingStore) -> None:
    theirs = world.outsider.project
    db.add(
        Call(
            project_id=theirs.id,
            provider="binotel",
            provider_call_id="x",
            caller_e164=NUMBER,
            dialled_e164="+380441234568",
            started_at=AT,
            status="answered",
        )
    )
    db.commit()
    erase_caller(db, store, world.ours.project, NUMBER, salt=SALT)
    db.commit()
    assert db.scalar(select(Call.id).where(Call.project_id == theirs.id)) is not None


def test_a_number_that_is_not_a_phone_number_is_refused(
    db: Session, world: World, store: RecordingStore
) -> None:
    with pytest.raises(InvalidInput):
        erase_caller(db, store, world.ours.project, "not a number", salt=SALT)
