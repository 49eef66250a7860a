"""`ringtrail callbacks`: the widget's settings, the requests to ring back, and placing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.callback_widget import WidgetSettings
from ringtrail.storage.models import CallbackRequest, Lead
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_the_widget_is_switched_on_with_hours_and_a_block_list(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    shown = backend_invoke("callbacks", "widget", str(project.id))
    assert shown.exit_code == 0 and "callback widget: off" in shown.output
    changed = backend_invoke(
        "callbacks", "widget", str(project.id), "--enable", "--business-number", "044 123 45 67",
        "--days", "0,1,2", "--opens", "10:00", "--closes", "17:30", "--block", "050 999 88 77",
        "--calls-per-day", "2",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "callback widget: on" in changed.output and "+380509998877" in changed.output
    db.refresh(project)
    settings = WidgetSettings.of(project.extra)
    assert settings.enabled and settings.business_number == "+380441234567"
    assert settings.hours.days == (0, 1, 2) and settings.limits.calls_per_number_per_day == 2
    wrong = backend_invoke("callbacks", "widget", str(project.id), "--opens", "25:00")
    assert "hours.opens" in assert_one_error_line(wrong, 2)


def test_requests_are_listed_rung_now_and_marked_done(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    lead = Lead(project_id=project.id, kind="callback", phone_e164="+380501234567", payload={})
    db.add(lead)
    db.flush()
    request = CallbackRequest(
        project_id=project.id, lead_id=lead.id, phone_e164="+380501234567", language="en",
        requested_at=datetime.now(UTC) - timedelta(hours=2), status="unreached",
        last_outcome="business_no_answer", scheduled=False, attempts=2, payload={},
    )  # fmt: skip
    db.add(request)
    db.commit()

    listed = backend_invoke("callbacks", "list", str(project.id))
    assert listed.exit_code == 0 and "+380501234567" in listed.output
    assert "business_no_answer" in listed.output
    rung = backend_invoke("callbacks", "call-now", str(project.id), str(request.id))
    assert rung.exit_code == 0, rung.output
    db.expire_all()
    again = db.scalars(select(CallbackRequest)).one()
    assert again.status == "waiting" and again.due_at is not None
    done = backend_invoke("callbacks", "done", str(project.id), str(request.id))
    assert done.exit_code == 0
    db.expire_all()
    assert db.scalars(select(CallbackRequest)).one().status == "done"
    assert "no callback requests" in backend_invoke("callbacks", "list", str(project.id)).output
    other = backend_invoke("callbacks", "done", str(world.outsider.project.id), str(request.id))
    assert other.exit_code != 0


def test_a_placing_pass_with_nothing_due_places_nothing(backend_invoke: Invoke) -> None:
    placed = backend_invoke("callbacks", "place")
    assert placed.exit_code == 0 and "placed 0" in placed.output
