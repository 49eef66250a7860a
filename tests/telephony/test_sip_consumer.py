"""The SIP event consumer against the real RabbitMQ and database: no event is ever lost.

Each test has its own durable queue (deleted afterwards). Messages are the ones Kamailio
publishes (tests/telephony/fixtures/sip_*.jsonl, recorded from deploy/kamailio).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallEvent
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.tracking import add_number
from ringtrail.settings import Settings
from ringtrail.storage.models import Call
from ringtrail.storage.models import CallEvent as CallEventRow
from ringtrail.telephony.sip_consumer import (
    ERROR_HEADER,
    ConsumerFailed,
    ConsumerOptions,
    SipEventConsumer,
    dead_letter_queue,
)
from tests.conftest import World
from tests.telephony.sip_rig import (
    AMQP_URL,
    drain,
    private_queue,
    publish,
    queue_consumers,
    queue_depth,
    wait_for,
)

FIXTURES = Path(__file__).parent / "fixtures"
ANSWERED = (FIXTURES / "sip_answered_call.jsonl").read_text(encoding="utf-8").splitlines()
BUSY = (FIXTURES / "sip_busy_call.jsonl").read_text(encoding="utf-8").splitlines()
FAST = ConsumerOptions(once=True, batch_wait_seconds=0.05, min_pause_seconds=0.05)


@pytest.fixture
def queue() -> Iterator[str]:
    with private_queue() as name:
        yield name


@pytest.fixture
def flyer_number(db: Session, world: World) -> str:
    """Our project's static number, dialled as Kamailio reports it (digits, no '+')."""
    add_number(
        db,
        world.ours.project,
        {"number": "+380441234567", "kind": "static", "source": "flyer", "medium": "offline"},
    )
    db.commit()
    return "380441234567"


def consumer(runtime: Runtime, queue: str, options: ConsumerOptions = FAST) -> SipEventConsumer:
    ingestion = CallIngestion(runtime.sessions)
    return SipEventConsumer(AMQP_URL, queue, ingestion.ingest_many, options)


def calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).order_by(Call.provider_call_id)))


def test_events_are_ingested_and_acknowledged(
    runtime: Runtime, db: Session, queue: str, flyer_number: str
) -> None:
    publish(queue, *ANSWERED, *BUSY)
    stats = consumer(runtime, queue).run()
    assert (stats.messages, stats.events, stats.dead_lettered) == (5, 5, 0)
    assert queue_depth(queue) == 0
    answered, busy = calls(db)
    assert (answered.provider_call_id, answered.status) == ("rec-answered-1", "answered")
    assert (answered.duration_seconds, answered.talk_seconds) == (2, 2)
    assert (answered.dialled_e164, answered.source) == ("+380441234567", "flyer")
    assert (busy.status, busy.talk_seconds, busy.source) == ("busy", 0, "flyer")


def test_a_redelivered_message_changes_nothing(
    runtime: Runtime, db: Session, queue: str, flyer_number: str
) -> None:
    publish(queue, *ANSWERED, ANSWERED[2], ANSWERED[0])
    consumer(runtime, queue).run()
    publish(queue, *ANSWERED)
    consumer(runtime, queue).run()
    [call] = calls(db)
    assert call.status == "answered"
    assert db.scalar(select(func.count()).select_from(CallEventRow)) == 3


def test_a_malformed_message_is_dead_lettered_with_its_reason(
    runtime: Runtime, db: Session, queue: str, flyer_number: str
) -> None:
    publish(queue, BUSY[0], b"{not json", json.dumps({"event": "ringing"}), BUSY[1])
    stats = consumer(runtime, queue).run()
    assert (stats.messages, stats.dead_lettered) == (4, 2)
    assert queue_depth(queue) == 0
    dead = drain(dead_letter_queue(queue))
    assert [body for _, body in dead] == [b"{not json", b'{"event": "ringing"}']
    reasons = [properties.headers[ERROR_HEADER] for properties, _ in dead]
    assert reasons[0].startswith("invalid payload: not JSON")
    assert "unknown event 'ringing'" in reasons[1]
    assert all(properties.delivery_mode == 2 for properties, _ in dead)
    [busy] = calls(db)
    assert busy.status == "busy"


def test_a_message_ingestion_refuses_is_dead_lettered_and_the_rest_go_in(
    runtime: Runtime, db: Session, queue: str, flyer_number: str
) -> None:
    ingestion = CallIngestion(runtime.sessions)

    def refuse_the_busy_call(events: Sequence[CallEvent]) -> object:
        if any(e.provider_call_id == "rec-busy-1" for e in events):
            raise ValueError("this call breaks a rule")
        return ingestion.ingest_many(events)

    publish(queue, *ANSWERED, BUSY[1])
    stats = SipEventConsumer(AMQP_URL, queue, refuse_the_busy_call, FAST).run()
    assert (stats.messages, stats.dead_lettered) == (4, 1)
    [(properties, body)] = drain(dead_letter_queue(queue))
    assert body.decode() == BUSY[1]
    assert (
        properties.headers[ERROR_HEADER] == "ingestion failed: ValueError: this call breaks a rule"
    )
    assert [call.provider_call_id for call in calls(db)] == ["rec-answered-1"]


@pytest.fixture
def unreachable_database(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose PostgreSQL is not there (nothing listens on port 9)."""
    down = bootstrap(
        Settings(
            database_url="postgresql://ringtrail@127.0.0.1:9/ringtrail",
            data_dir=tmp_path / "down",
            secret_key="test-secret-key-not-for-production",
        )
    )
    yield down
    down.close()


def test_a_database_outage_leaves_every_event_queued(
    runtime: Runtime, db: Session, queue: str, flyer_number: str, unreachable_database: Runtime
) -> None:
    publish(queue, *ANSWERED)
    with pytest.raises(ConsumerFailed, match="database is unreachable"):
        consumer(unreachable_database, queue).run()
    assert queue_depth(queue) == 3
    assert queue_depth(dead_letter_queue(queue)) == 0

    waiting = consumer(
        unreachable_database,
        queue,
        ConsumerOptions(batch_wait_seconds=0.05, min_pause_seconds=0.05, max_pause_seconds=0.1),
    )
    thread = threading.Thread(target=waiting.run, daemon=True)
    thread.start()
    wait_for("the consumer to retry twice", lambda: waiting.stats.requeued >= 6)
    waiting.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert (waiting.stats.messages, waiting.stats.dead_lettered) == (0, 0)
    assert queue_depth(queue) == 3

    consumer(runtime, queue).run()  # the database is back
    [call] = calls(db)
    assert call.status == "answered"
    assert queue_depth(queue) == 0


def test_stop_ends_a_waiting_consumer(runtime: Runtime, queue: str) -> None:
    waiting = consumer(runtime, queue, ConsumerOptions(batch_wait_seconds=0.05))
    thread = threading.Thread(target=waiting.run, daemon=True)
    thread.start()
    wait_for("the consumer to wait on its queue", lambda: queue_consumers(queue) == 1)
    waiting.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_an_unreachable_broker_fails_a_once_run(runtime: Runtime, queue: str) -> None:
    options = ConsumerOptions(once=True)
    lost = SipEventConsumer("amqp://guest:guest@127.0.0.1:9/%2F", queue, lambda _: None, options)
    with pytest.raises(ConsumerFailed, match="RabbitMQ unreachable"):
        lost.run()
