"""Erasing a caller also erases the callback widget's requests and the calls back to them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.recordings.factory import make_store
from ringtrail.runtime import Runtime
from ringtrail.services.privacy import erase_caller
from ringtrail.storage.models import Call, CallbackRequest, Lead
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.test_privacy import SALT

NUMBER = "+380501234567"
AT = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def test_erasure_takes_the_callback_request_and_the_outbound_calls_to_the_number(
    db: Session, world: World, runtime: Runtime
) -> None:
    project = world.ours.project
    lead = Lead(project_id=project.id, kind="callback", phone_e164=NUMBER, payload={})
    db.add(lead)
    db.flush()
    call = add_call(db, project, direction="outbound", caller_e164="+380443334455",
                    dialled_e164=NUMBER, forwarded_to="+380441234567", lead_id=lead.id)  # fmt: skip
    db.add(
        CallbackRequest(
            project_id=project.id,
            lead_id=lead.id,
            phone_e164=NUMBER,
            language="en",
            requested_at=AT,
            status="connected",
            scheduled=False,
            attempts=1,
            call_id=call.id,
            payload={},
        )
    )
    kept = add_call(db, world.outsider.project, direction="outbound", dialled_e164=NUMBER)
    db.commit()

    report = erase_caller(db, make_store(runtime.settings), project, "050 123 45 67", salt=SALT)
    db.commit()

    assert report.removed["callback_requests"] == 1 and report.removed["calls"] == 1
    assert db.scalar(select(func.count()).select_from(CallbackRequest)) == 0
    assert db.get(Call, kept.id) is not None  # another project's call stays
