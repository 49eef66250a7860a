"""`ringtrail project forms` and `ringtrail project leads`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.domain.form_fields import FormPolicy
from ringtrail.services.leads import record_lead
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_forms_are_switched_on_with_a_selector_and_fields_then_off(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    shown = backend_invoke("project", "forms", str(project.id))
    assert shown.exit_code == 0 and "forms: disabled" in shown.output

    on = backend_invoke("project", "forms", str(project.id), "--enable", "--selector",
                        "form.contact", "--field", "message", "--field", "city")  # fmt: skip
    assert on.exit_code == 0, on.output
    assert "forms: enabled" in on.output and "message, city" in on.output
    db.expire_all()
    db.refresh(project)
    assert FormPolicy.from_extra(project.extra) == FormPolicy(
        True, "form.contact", ("message", "city")
    )
    off = backend_invoke("project", "forms", str(project.id), "--disable", "--no-fields")
    assert "forms: disabled" in off.output and "besides name, phone, e-mail: -" in off.output
    bad = backend_invoke("project", "forms", str(project.id), "--field", "password")
    assert "password" in assert_one_error_line(bad, 2)


def test_leads_lists_the_latest_leads_of_each_kind(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    assert "no leads yet" in backend_invoke("project", "leads", str(project.id)).output
    record_lead(db, project, kind="form", visitor_token=None, phone="0501234567")
    record_lead(db, project, kind="callback", visitor_token=None, phone="0671234567")
    db.commit()

    listed = backend_invoke("project", "leads", str(project.id), "--kind", "callback")

    assert listed.exit_code == 0, listed.output
    assert "+380671234567" in listed.output and "+380501234567" not in listed.output
