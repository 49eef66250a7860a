"""Sending deliveries: once each, in order per call, retried through outages, 4xx final."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.call_marking import mark_target, set_deal_value, set_tags
from ringtrail.services.deliveries.enqueue import note_call_event
from ringtrail.services.deliveries.log import list_deliveries
from ringtrail.services.deliveries.replay import replay_delivery
from ringtrail.services.deliveries.worker import backoff_seconds, deliver_due
from ringtrail.storage.models import OutboundDelivery
from ringtrail.storage.models.base import utcnow
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.deliveries.conftest import add_sink, drain
from tests.services.deliveries.fake_sink import Sink

# Hooks in the services queue at the real time: the simulated clock starts an hour later.
NOW = utcnow() + timedelta(hours=1)


def rows(db: Session) -> list[OutboundDelivery]:
    db.expire_all()
    return list(db.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id)))


def test_an_ended_call_goes_out_once_with_its_crm_events_in_order(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    add_sink(db, world.ours.project, sink)
    call = add_call(db, world.ours.project)
    for _ in range(3):  # queued again and again: still one row per event
        note_call_event(db, call, "ended", NOW)
    set_tags(db, world.ours.project.id, call.id, ["price"])  # call.updated.1
    db.commit()
    assert sorted(r.event_name for r in rows(db)) == [
        "call.ended",
        "call.started",
        "call.updated.1",
        "conversion",
    ]
    drain(runtime, http, NOW)
    key = f"call-{call.id}-"
    crm = [k for k in sink.order if not k.endswith("conversion")]
    assert crm == [key + "call.started", key + "call.ended", key + "call.updated.1"]
    assert sorted(sink.events) == sorted([*crm, key + "conversion"])
    assert sink.requests == 4
    assert {r.status for r in rows(db)} == {"accepted"}
    # A later event sees the answers the destination gave before (a CRM reuses its ids).
    assert sink.events[key + "call.updated.1"]["previous"] == [
        "call.ended",
        "call.started",
        "conversion",
    ]


def test_an_outage_of_an_hour_loses_nothing_and_sends_nothing_twice(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    add_sink(db, world.ours.project, sink)
    calls = [add_call(db, world.ours.project) for _ in range(5)]
    for call in calls:
        note_call_event(db, call, "ended", NOW)
    db.commit()
    sink.mode = "down"
    now = NOW
    while now < NOW + timedelta(hours=1):  # an hour of 503s on a simulated clock
        deliver_due(runtime.sessions, http, now)
        now += timedelta(minutes=2)
    waiting = rows(db)
    assert {r.status for r in waiting} == {"pending"}
    tried = [r for r in waiting if r.event_name != "call.ended"]
    assert all(r.reason and "will retry" in r.reason and r.attempts >= 5 for r in tried)
    # call.ended waits behind call.started: a CRM must not see the end before the start.
    assert all(r.attempts == 0 for r in waiting if r.event_name == "call.ended")
    assert all(r.status_code == 503 for r in waiting if r.event_name == "call.started")
    assert sink.events == {}
    sink.mode = "ok"
    drain(runtime, http, now, step=timedelta(minutes=5), until=now + timedelta(hours=5))
    assert {r.status for r in rows(db)} == {"accepted"}
    assert len(sink.events) == 5 * 3  # started, ended, conversion per call, each once


def test_a_destination_that_does_not_answer_in_time_is_retried_and_dedupes(
    db: Session, world: World, runtime: Runtime, sink: Sink
) -> None:
    add_sink(db, world.ours.project, sink, rules={"count_calls": True})
    call = add_call(db, world.ours.project)
    note_call_event(db, call, "ended", NOW)
    db.commit()
    sink.delay = 0.3
    with httpx.Client(timeout=0.1) as impatient:
        deliver_due(runtime.sessions, impatient, NOW)
    first = {r.event_name: r for r in rows(db)}
    assert first["conversion"].status == "pending"
    assert first["conversion"].reason == "will retry: the destination did not answer in time"
    sink.delay = 0
    with httpx.Client(timeout=2) as patient:
        drain(runtime, patient, NOW, step=timedelta(minutes=5), until=NOW + timedelta(hours=1))
    assert {r.status for r in rows(db)} == {"accepted"}
    # Whether or not the sends that timed out reached the platform (on a busy machine one may
    # not even connect in time), it kept one event per key.
    assert len(sink.events) == 3
    assert sink.requests >= 3


def test_a_refusal_is_final_and_explained_until_an_admin_replays_it(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    add_sink(db, world.ours.project, sink)
    call = add_call(db, world.ours.project)
    note_call_event(db, call, "ended", NOW)
    db.commit()
    sink.mode = "refuse"
    drain(runtime, http, NOW, step=timedelta(hours=1), until=NOW + timedelta(days=2))
    refused = rows(db)
    assert {r.status for r in refused} == {"rejected"}
    assert sink.requests == 3  # one try each, never again
    page = list_deliveries(db, world.ours.project, status="rejected")
    assert {e.reason for e in page.items} == {"the click id is unknown"}
    assert {e.reason_code for e in page.items} == {"http_400"}
    assert page.items[0].payload["phone"] == "+38*******67"  # masked
    sink.mode = "ok"
    conversion = next(r for r in refused if r.event_name == "conversion")
    replay_delivery(db, world.ours.project, conversion.id, NOW)
    db.commit()
    drain(runtime, http, NOW + timedelta(days=2))
    assert list(sink.events) == [f"call-{call.id}-conversion"]


def test_a_destination_that_keeps_failing_is_dead_lettered(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    add_sink(db, world.ours.project, sink, rules={})
    call = add_call(db, world.ours.project)
    note_call_event(db, call, "ended", NOW)
    db.commit()
    sink.mode = "down"
    drain(
        runtime, http, NOW, step=timedelta(hours=1), until=NOW + timedelta(days=3), max_attempts=3
    )
    dead = [r for r in rows(db) if r.status == "dead"]
    assert {r.event_name for r in dead} == {"call.started", "call.ended", "conversion"}
    assert all(r.attempts == 3 and r.reason.startswith("gave up after 3 tries") for r in dead)  # type: ignore[union-attr]
    # call.ended waits behind the dead call.started no longer: it is tried and dies too.
    assert {r.status for r in rows(db)} == {"dead"}


def test_a_call_marked_target_after_its_first_delivery_is_sent_once(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    project = world.ours.project
    add_sink(db, project, sink, rules={"target_only": True, "resend_on_change": True})
    call = add_call(db, project)
    note_call_event(db, call, "ended", NOW)
    db.commit()
    drain(runtime, http, NOW)
    conversion = next(r for r in rows(db) if r.event_name == "conversion")
    assert conversion.status == "skipped"
    assert conversion.reason == "not marked target yet: will send if it is marked target"
    mark_target(db, project.id, call.id, world.ours.owner.id, True)
    db.commit()
    drain(runtime, http, NOW + timedelta(hours=1))
    key = f"call-{call.id}-conversion"
    assert sink.events[key]["target"] is True
    # Changes that do not change the conversion: a restatement is considered, sent never.
    set_tags(db, project.id, call.id, ["price"])
    mark_target(db, project.id, call.id, world.ours.owner.id, True)
    db.commit()
    drain(runtime, http, NOW + timedelta(hours=2))
    conversions = [k for k in sink.events if k.endswith(("conversion", "restatement.1"))]
    assert conversions == [key]
    restated = next(r for r in rows(db) if r.event_name == "conversion.restatement.1")
    assert restated.status == "skipped" and restated.reason_code == "unchanged"


def test_a_value_that_changes_later_is_restated_only_when_the_rule_says_so(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    project = world.ours.project
    resend = add_sink(
        db,
        project,
        sink,
        rules={"value_mode": "deal", "fallback_value": "0", "resend_on_change": True},
    )
    quiet = add_sink(db, project, sink, rules={"value_mode": "deal", "fallback_value": "0"})
    call = add_call(db, project)
    note_call_event(db, call, "ended", NOW)
    db.commit()
    drain(runtime, http, NOW)
    set_deal_value(db, project.id, call.id, Decimal("1200"))
    db.commit()
    drain(runtime, http, NOW + timedelta(hours=1))
    by_destination = {
        (r.destination_id, r.event_name): r for r in rows(db) if r.event_name.startswith("conv")
    }
    restated = by_destination[(resend.id, "conversion.restatement.1")]
    assert restated.status == "accepted"
    assert restated.conversion == {
        "name": "phone_call",
        "value": "1200.0",
        "currency": "UAH",
    } or restated.conversion == {"name": "phone_call", "value": "1200", "currency": "UAH"}
    assert (quiet.id, "conversion.restatement.1") not in by_destination
    assert by_destination[(quiet.id, "conversion")].status == "accepted"


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    assert backoff_seconds(1, lambda: 0.5) == 60
    assert backoff_seconds(3, lambda: 0.5) == 240
    assert backoff_seconds(30, lambda: 0.5) == 4 * 3600
    assert 45 <= backoff_seconds(1, lambda: 0.0) <= backoff_seconds(1, lambda: 1.0) <= 75


def test_a_pass_takes_no_more_than_its_limit(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    add_sink(db, world.ours.project, sink)
    for _ in range(4):
        note_call_event(db, add_call(db, world.ours.project), "ended", NOW)
    db.commit()
    assert deliver_due(runtime.sessions, http, NOW, limit=3).claimed == 3
    rest = drain(runtime, http, NOW, limit=100)
    assert 3 + sum(r.claimed for r in rest) == 12
