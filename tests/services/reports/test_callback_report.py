"""The callbacks report: requested, connected, seconds to connect, share of leads; and the
calls reports leave the outbound calls back out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.services.reports.catalog import build_overview, build_report
from ringtrail.storage.models import CallbackRequest, Lead, Project
from tests.call_rows import add_call
from tests.conftest import World

DAY = date(2025, 3, 3)
PERIOD = Period(DAY, DAY)
NOON = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # 12:00 in Kyiv


def add_request(
    db: Session,
    project: Project,
    *,
    source: str | None,
    status: str,
    outcome: str | None = None,
    to_connect: int | None = None,
    talk: int | None = None,
    phone: str = "+380501234567",
) -> CallbackRequest:
    lead = Lead(project_id=project.id, kind="callback", phone_e164=phone, source=source,
                created_at=NOON, payload={})  # fmt: skip
    db.add(lead)
    db.flush()
    request = CallbackRequest(
        project_id=project.id,
        lead_id=lead.id,
        phone_e164=phone,
        language="en",
        requested_at=NOON,
        status=status,
        last_outcome=outcome,
        seconds_to_connect=to_connect,
        talk_seconds=talk,
        attempts=1,
        scheduled=False,
        payload={},
    )
    db.add(request)
    db.flush()
    return request


def test_requested_connected_seconds_to_connect_and_share_of_leads(
    db: Session, world: World
) -> None:
    project = world.ours.project
    add_request(db, project, source="google", status="connected", outcome="connected",
                to_connect=10, talk=60)  # fmt: skip
    add_request(db, project, source="google", status="connected", outcome="connected",
                to_connect=30, talk=40, phone="+380501234568")  # fmt: skip
    add_request(db, project, source="facebook", status="unreached",
                outcome="business_no_answer", phone="+380501234569")  # fmt: skip
    add_request(db, project, source=None, status="waiting", phone="+380501234560")
    db.add(Lead(project_id=project.id, kind="form", created_at=NOON, payload={}))
    db.commit()

    report = build_report(db, project, "callbacks", PERIOD)
    figures = {h.key: h.value for h in report.headlines}
    assert figures["requested"] == 4 and figures["connected"] == 2
    assert figures["connected_share"] == pytest.approx(0.5)
    assert figures["median_to_connect"] == 20.0 and figures["average_to_connect"] == 20.0
    assert figures["share_of_leads"] == pytest.approx(4 / 5)
    outcomes = {row.cells["outcome"]: row.cells["requests"] for row in report.tables[0].rows}
    assert outcomes["Connected"] == 2
    assert outcomes["The business did not answer"] == 1
    assert outcomes["Waiting or scheduled"] == 1
    by_source = {row.cells["source"]: row.cells for row in report.tables[1].rows}
    assert by_source["google"]["connected"] == 2 and by_source["google"]["talk_seconds"] == 100
    assert by_source["facebook"]["connected_share"] == 0.0


def test_the_outbound_calls_back_are_not_counted_as_calls(db: Session, world: World) -> None:
    project = world.ours.project
    add_call(db, project, started_at=NOON)
    add_call(db, project, started_at=NOON + timedelta(minutes=1), direction="outbound",
             dialled_e164="+380501234567", forwarded_to="+380441234567")  # fmt: skip
    db.commit()
    overview = {h.key: h.value for h in build_overview(db, project, PERIOD).headlines}
    assert overview["calls"] == 1
