"""The delivery log: per call, filters, masked payloads, totals per destination and day."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.deliveries.enqueue import note_call_event
from ringtrail.services.deliveries.log import daily_totals, deliveries_of, list_deliveries
from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models.base import utcnow
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.deliveries.conftest import add_sink, drain
from tests.services.deliveries.fake_sink import Sink


def test_the_log_shows_each_call_and_totals_that_reconcile(
    db: Session, world: World, runtime: Runtime, sink: Sink, http: httpx.Client
) -> None:
    project = world.ours.project
    destination = add_sink(db, project, sink, rules={"min_talk_seconds": 30})
    now = utcnow()
    long_call = add_call(db, project, talk_seconds=90)
    short_call = add_call(db, project, talk_seconds=12)
    for call in (long_call, short_call):
        note_call_event(db, call, "ended", now)
    db.commit()
    drain(runtime, http, now + timedelta(seconds=1))
    mine = deliveries_of(db, project, "call", short_call.id)
    assert [e.event_name for e in mine] == ["call.started", "conversion", "call.ended"]
    skipped = mine[1]
    assert skipped.status == "skipped"
    assert skipped.reason == "talk time 12 s is under the rule's 30 s"
    assert mine[0].payload["phone"] == "+38*******67"
    assert mine[0].response == {"id": f"crm-call-{short_call.id}-call.started"}
    assert list_deliveries(db, project, status="skipped").items == [skipped]
    assert list_deliveries(db, world.outsider.project).items == []
    today = now.date()
    totals = daily_totals(
        db, project, first_day=today - timedelta(days=1), last_day=today + timedelta(days=1)
    )
    assert sum(t.total for t in totals) == 6
    merged: dict[str, int] = {}
    for total in totals:
        assert total.destination_id == destination.id and total.destination_name == "Sink"
        for status, count in total.counts.items():
            merged[status] = merged.get(status, 0) + count
    assert merged == {"accepted": 5, "skipped": 1}
    with pytest.raises(InvalidInput):
        list_deliveries(db, project, status="lost")
    with pytest.raises(InvalidInput):
        daily_totals(db, project, first_day=date(2026, 1, 2), last_day=date(2026, 1, 1))
