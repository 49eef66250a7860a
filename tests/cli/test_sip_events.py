"""`ringtrail sip-events`: drains the SIP event queue, refuses to run without a broker, replays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World
from tests.telephony.sip_rig import AMQP_URL, private_queue, publish, queue_depth

BUSY = (
    (Path(__file__).parents[1] / "telephony" / "fixtures" / "sip_busy_call.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
)


@pytest.fixture
def queue() -> Iterator[str]:
    with private_queue() as name:
        yield name


@pytest.fixture
def flyer_number(db: Session, world: World) -> None:
    add_number(
        db,
        world.ours.project,
        {"number": "+380441234567", "kind": "static", "source": "flyer", "medium": "offline"},
    )
    db.commit()


def calls(db: Session) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).order_by(Call.provider_call_id)))


def test_the_command_drains_the_queue_once(
    backend_invoke: Invoke, db: Session, queue: str, flyer_number: None
) -> None:
    publish(queue, *BUSY)
    result = backend_invoke("sip-events", "--once", "--queue", queue, "--amqp-url", AMQP_URL)
    assert result.exit_code == 0, result.output
    assert "2 message(s), 2 event(s) ingested, 0 dead-lettered" in result.stderr
    assert queue_depth(queue) == 0
    [busy] = calls(db)
    assert busy.status == "busy"


def test_the_command_needs_a_broker_url(backend_invoke: Invoke) -> None:
    line = assert_one_error_line(backend_invoke("sip-events", "--once", RINGTRAIL_AMQP_URL=""), 2)
    assert "RINGTRAIL_AMQP_URL" in line


def test_the_command_replays_events_kamailio_logged_as_unsent(
    backend_invoke: Invoke, db: Session, flyer_number: None, tmp_path: Path
) -> None:
    log = tmp_path / "kamailio.log"
    log.write_text(
        "".join(f" 8(1) ALERT: <script>: ringtrail-sip-event-unsent {line}\n" for line in BUSY)
        + " 9(2) ERROR: rabbitmq: FAIL: open TCP sock\n",
        encoding="utf-8",
    )
    result = backend_invoke("sip-events", "--replay", str(log))
    assert result.exit_code == 0, result.output
    assert "replayed 2 event(s); 0 unreadable" in result.stderr
    result = backend_invoke("sip-events", "--replay", str(log))  # twice: still one call
    assert result.exit_code == 0, result.output
    [busy] = calls(db)
    assert (busy.status, busy.source) == ("busy", "flyer")
