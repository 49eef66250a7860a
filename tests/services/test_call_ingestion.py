"""Call ingestion on SQLite and PostgreSQL: idempotency, order, attribution, caller history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.domain.reports.periods import Period
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.pools import create_pool
from ringtrail.services.reports.engine import ReportScope, call_rows
from ringtrail.services.reports.rollups import refresh_dirty
from ringtrail.services.tracking import add_number
from ringtrail.storage.models import (
    Call,
    CallRollup,
    Lead,
    NumberLease,
    Recording,
    RollupDirty,
    Visit,
    Visitor,
)
from ringtrail.storage.models import (
    CallEvent as CallEventRow,
)
from tests.conftest import World

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CALLER = "+380501112233"
STATIC = "+380441230001"
POOL = ["+380441230010", "+380441230011"]
DEFAULT = "+380441230019"


def ev(
    call: str, kind: CallEventKind, seconds: float = 0, *, dialled: str | None = None, **kw: Any
) -> CallEvent:
    return CallEvent(
        provider="test",
        provider_call_id=call,
        kind=kind,
        occurred_at=T0 + timedelta(seconds=seconds),
        dedupe_key=f"test:{call}:{kind.value}",
        dialled=dialled,
        **kw,
    )


def answered_call(call: str, dialled: str, caller: str = CALLER, at: float = 0) -> list[CallEvent]:
    return [
        ev(call, CallEventKind.STARTED, at, dialled=dialled, caller=caller),
        ev(call, CallEventKind.ANSWERED, at + 10),
        ev(call, CallEventKind.ENDED, at + 70, outcome=CallOutcome.ANSWERED),
    ]


@pytest.fixture
def numbers(db: Session, world: World) -> dict[str, int]:
    """Our project: a static flyer number and a Google Ads pool of two with a default."""
    project = world.ours.project
    flyer = add_number(
        db,
        project,
        {"number": STATIC, "kind": "static", "source": "flyer", "medium": "offline"},
    )
    pool = create_pool(db, project, {"name": "Google Ads"}, numbers=POOL, default_number=DEFAULT)
    db.commit()
    ids = {"flyer": flyer.id, "pool": pool.id}
    return ids


@pytest.fixture
def ingestion(runtime: Runtime) -> CallIngestion:
    return CallIngestion(runtime.sessions, clock=lambda: T0 + timedelta(minutes=5))


def one_call(db: Session) -> Call:
    db.expire_all()
    return db.scalars(select(Call)).one()


def test_the_same_event_delivered_five_times_counts_once(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    events = answered_call("c1", STATIC)
    results = [ingestion.ingest(e) for _ in range(5) for e in events]
    assert [r.duplicate for r in results[:3]] == [False, False, False]
    assert all(r.duplicate for r in results[3:])
    assert len({r.call_id for r in results}) == 1
    assert db.scalar(select(func.count()).select_from(CallEventRow)) == 3
    call = one_call(db)
    assert (call.status, call.duration_seconds, call.talk_seconds) == ("answered", 70, 60)
    assert db.scalar(select(func.count()).select_from(Lead)) == 1


def test_ended_before_started_still_yields_one_complete_call(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    for event in reversed(answered_call("c1", STATIC)):
        ingestion.ingest(event)
    call = one_call(db)
    assert call.started_at == T0
    assert call.answered_at == T0 + timedelta(seconds=10)
    assert call.ended_at == T0 + timedelta(seconds=70)
    assert (call.status, call.duration_seconds, call.talk_seconds) == ("answered", 70, 60)
    assert call.source == "flyer" and call.attribution_kind == "static"


def test_an_event_for_an_unknown_number_is_stored_unattributed(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    result = ingestion.ingest(ev("c9", CallEventKind.STARTED, dialled="+380449999999"))
    assert not result.duplicate and result.project_id is None
    call = one_call(db)
    assert call.attribution_kind == "unattributed"
    assert "not a tracking number" in call.attribution_reason
    assert call.dialled_e164 == "+380449999999"
    assert db.scalar(select(func.count()).select_from(CallEventRow)) == 1


def test_a_static_number_gives_its_source_geography_and_a_lead(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int], world: World
) -> None:
    ingestion.ingest_many(answered_call("c1", "380441230001", caller="0441112233"))
    call = one_call(db)
    assert call.project_id == world.ours.project.id
    assert call.tracking_number_id == numbers["flyer"]
    assert (call.source, call.medium, call.confidence) == ("flyer", "offline", 1.0)
    assert call.caller_e164 == "+380441112233"
    assert (call.caller_country, call.caller_region) == ("UA", "Kyiv city")
    assert call.is_first_time and call.is_unique
    lead = db.get(Lead, call.lead_id)
    assert lead is not None and (lead.kind, lead.phone_e164, lead.source) == (
        "call",
        "+380441112233",
        "flyer",
    )


def test_a_signed_webhook_cannot_claim_another_projects_number(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int], world: World
) -> None:
    ingestion.ingest_many(answered_call("c1", STATIC), project_id=world.outsider.project.id)
    call = one_call(db)
    assert call.project_id == world.outsider.project.id
    assert call.attribution_kind == "unattributed"
    assert call.tracking_number_id is None


def make_hold(db: Session, world: World, number_e164: str, start: datetime) -> NumberLease:
    project = world.ours.project
    visitor = Visitor(
        project_id=project.id, public_id="v-1", first_seen_at=start, last_seen_at=start
    )
    db.add(visitor)
    db.flush()
    visit = Visit(
        project_id=project.id,
        visitor_id=visitor.id,
        started_at=start,
        last_seen_at=start,
        source="google",
        medium="cpc",
        campaign="flats",
        keyword="buy flat",
        geo_country="UA",
        geo_city="Kyiv",
    )
    db.add(visit)
    db.flush()
    from ringtrail.storage.models import TrackingNumber

    number = db.scalars(select(TrackingNumber).where(TrackingNumber.e164 == number_e164)).one()
    lease = NumberLease(
        project_id=project.id,
        pool_id=number.pool_id,
        number_id=number.id,
        visitor_id=visitor.id,
        visit_id=visit.id,
        leased_at=start,
        last_heartbeat_at=start + timedelta(minutes=3),
        hold_until=start + timedelta(minutes=18),
        snapshot={
            "source": "google",
            "medium": "cpc",
            "campaign": "flats",
            "keyword": "buy flat",
            "landing_page": "/flats",
            "analytics": {"ga_client_id": "1.2"},
        },
    )
    db.add(lease)
    db.commit()
    return lease


def test_a_call_to_a_held_pool_number_goes_to_that_session(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int], world: World
) -> None:
    lease = make_hold(db, world, POOL[0], T0 - timedelta(minutes=2))
    ingestion.ingest_many(answered_call("c1", POOL[0]))
    call = one_call(db)
    assert call.attribution_kind == "session"
    assert call.confidence == 1.0
    assert (call.visitor_id, call.visit_id) == (lease.visitor_id, lease.visit_id)
    assert (call.source, call.medium, call.campaign, call.keyword, call.landing_page) == (
        "google",
        "cpc",
        "flats",
        "buy flat",
        "/flats",
    )
    assert call.snapshot["analytics"] == {"ga_client_id": "1.2"}
    assert call.snapshot["visitor_geo"] == {"country": "UA", "city": "Kyiv"}
    assert [c["lease_id"] for c in call.candidates] == [lease.id]

    ingestion.ingest_many(answered_call("c2", POOL[1], at=60))
    db.expire_all()
    second = db.scalars(select(Call).where(Call.provider_call_id == "c2")).one()
    assert not second.is_first_time and not second.is_unique
    assert second.first_call_id == call.id
    assert second.lead_id == call.lead_id
    assert second.visitor_id == lease.visitor_id
    assert second.attribution_kind == "unattributed"
    assert db.scalar(select(func.count()).select_from(Lead)) == 1


def test_a_call_to_the_default_number_of_a_full_pool(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int], world: World
) -> None:
    from ringtrail.services.source_rules import add_rule as create_source_rule

    create_source_rule(
        db,
        world.ours.project,
        {
            "name": "Google Ads",
            "conditions": [{"field": "utm_source", "op": "equals", "value": "google"}],
            "source": "google",
            "medium": "cpc",
            "pool_id": numbers["pool"],
        },
    )
    db.commit()
    ingestion.ingest_many(answered_call("c1", DEFAULT))
    call = one_call(db)
    assert call.attribution_kind == "pool_source"
    assert (call.source, call.medium) == ("google", "cpc")
    assert call.visitor_id is None and call.visit_id is None


def test_missed_and_busy_calls_are_flagged_for_callback(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    ingestion.ingest_many(
        [
            ev("c1", CallEventKind.STARTED, dialled=STATIC, caller=CALLER),
            ev("c1", CallEventKind.ENDED, 30, outcome=CallOutcome.NO_ANSWER),
            ev("c2", CallEventKind.STARTED, 100, dialled=STATIC, caller=CALLER),
            ev("c2", CallEventKind.ENDED, 102, outcome=CallOutcome.BUSY),
        ]
    )
    db.expire_all()
    rows = db.scalars(select(Call).order_by(Call.started_at)).all()
    assert [(c.status, c.needs_callback, c.talk_seconds) for c in rows] == [
        ("missed", True, 0),
        ("busy", True, 0),
    ]


def test_a_recording_event_queues_the_audio_once(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    url = "https://provider.example/rec/1.wav"
    recording = ev(
        "c1", CallEventKind.RECORDING_READY, 80, recording_url=url, recording_duration=58
    )
    ingestion.ingest_many([*answered_call("c1", STATIC), recording, recording])
    rows = db.scalars(select(Recording)).all()
    assert len(rows) == 1
    assert (rows[0].status, rows[0].provider_url, rows[0].duration_seconds) == ("pending", url, 58)
    assert rows[0].delete_after == T0 + timedelta(days=365)


def test_a_failing_batch_writes_nothing(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    good = answered_call("c1", STATIC)
    bad = ev("c2", CallEventKind.STARTED, dialled=STATIC)
    object.__setattr__(bad, "occurred_at", "not a time")
    with pytest.raises(Exception):  # noqa: B017
        ingestion.ingest_many([*good, bad])
    assert db.scalar(select(func.count()).select_from(Call)) == 0
    assert db.scalar(select(func.count()).select_from(CallEventRow)) == 0


def test_a_caller_twice_in_one_batch_is_a_repeat_caller_on_one_lead(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int]
) -> None:
    results = ingestion.ingest_many(
        [*answered_call("c1", STATIC), *answered_call("c2", STATIC, at=300)]
    )
    first, second = results[0].call_id, results[-1].call_id
    db.expire_all()
    calls = {c.id: c for c in db.scalars(select(Call))}
    assert calls[first].is_first_time and calls[first].is_unique
    assert calls[second].is_first_time is False and calls[second].is_unique is False
    assert calls[second].first_call_id == first
    assert calls[second].lead_id == calls[first].lead_id is not None
    assert db.scalar(select(func.count()).select_from(Lead)) == 1


def test_events_of_one_call_from_parallel_deliveries_make_one_call(
    db: Session, runtime: Runtime, numbers: dict[str, int]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    events = answered_call("c1", STATIC)
    ingestions = [CallIngestion(runtime.sessions) for _ in events]
    with ThreadPoolExecutor(len(events)) as pool:
        pairs = zip(ingestions, events, strict=True)
        results = list(pool.map(lambda pair: pair[0].ingest(pair[1]), pairs))
    assert len({r.call_id for r in results}) == 1
    assert not any(r.duplicate for r in results)
    call = one_call(db)
    assert (call.status, call.duration_seconds, call.talk_seconds) == ("answered", 70, 60)


def test_an_ingested_call_marks_its_local_day_for_the_rollups(
    db: Session, ingestion: CallIngestion, numbers: dict[str, int], world: World
) -> None:
    late = [  # 22:30 UTC is already the next day in Kyiv (the project's zone)
        *answered_call("c1", STATIC, at=12.5 * 3600),
        *answered_call("c2", STATIC, caller="+380501112244", at=12.5 * 3600 + 60),
    ]
    ingestion.ingest_many(late)
    kyiv_day = (T0 + timedelta(days=1)).date()
    marks = db.execute(select(RollupDirty.project_id, RollupDirty.day)).all()
    # the calls' day, and the day the leads were opened (the clock: 10:05 UTC, Kyiv 12:05)
    assert sorted(marks) == [(world.ours.project.id, T0.date()), (world.ours.project.id, kyiv_day)]

    ingestion.ingest(ev("c1", CallEventKind.RECORDING_READY, 80, recording_url="https://r/1"))
    generation = db.scalar(select(RollupDirty.generation).where(RollupDirty.day == kyiv_day))
    assert generation == 2  # each batch that touches the day bumps it

    db.commit()
    assert refresh_dirty(db) == 2
    assert db.scalar(select(func.count()).select_from(RollupDirty)) == 0
    total = db.execute(
        select(CallRollup.day, CallRollup.calls, CallRollup.answered).where(
            CallRollup.dimension == Dimension.TOTAL.value
        )
    ).all()
    assert total == [(kyiv_day, 2, 2)]
    scope = ReportScope.of(world.ours.project, Period(kyiv_day, kyiv_day))
    assert call_rows(db, scope) == call_rows(db, scope, raw=True)
