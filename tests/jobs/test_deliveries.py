"""The delivery job: one pass sends what is due and says when more is waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ringtrail.jobs.deliveries import lease_seconds, run_deliveries
from ringtrail.runtime import Runtime
from ringtrail.services.deliveries.enqueue import note_call_event
from ringtrail.storage.models.base import utcnow
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.deliveries import fake_sink
from tests.services.deliveries.conftest import add_sink
from tests.services.deliveries.fake_sink import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with fake_sink.registered_sink() as server:
        yield server


def test_a_full_pass_is_busy_and_the_next_one_finishes(
    db: Session, world: World, runtime: Runtime, sink: Sink
) -> None:
    add_sink(db, world.ours.project, sink, rules={"count_calls": True})
    now = utcnow()
    note_call_event(db, add_call(db, world.ours.project), "ended", now)
    db.commit()
    runtime.settings.delivery_batch_size = 2
    later = now + timedelta(seconds=1)
    first = run_deliveries(runtime, later)
    assert first.busy and first.report.claimed == 2  # call.started and conversion
    second = run_deliveries(runtime, later)
    assert not second.busy and second.report.accepted == 1  # call.ended, after the start
    assert len(sink.events) == 3


def test_a_claim_outlives_a_pass_whose_every_send_times_out() -> None:
    assert lease_seconds(500, 16, 10) == (32 + 1) * 10 + 10
    assert lease_seconds(8, 8, 1) == 12
