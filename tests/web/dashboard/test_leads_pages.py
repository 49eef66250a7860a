"""The dashboard's leads list (every kind, marked like calls) and form-tracking settings."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.form_fields import FormPolicy
from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.leads import record_lead
from ringtrail.storage.models import Lead, Project
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in


def _member(db: Session, world: World, role: Role) -> str:
    email = f"{role.value}@acme-realty.example"
    set_membership(db, create_user(db, email, PASSWORD), world.ours.project, role)
    db.commit()
    return email


def _form_lead(db: Session, project: Project) -> Lead:
    outcome = record_lead(
        db, project, kind="form", visitor_token=None, phone="0501234567", name="Iryna",
        fields={"message": "Two rooms"},
    )  # fmt: skip
    db.commit()
    return outcome.lead


def test_the_leads_list_shows_forms_and_sales_marks_them(
    client: TestClient, db: Session, world: World
) -> None:
    lead = _form_lead(db, world.ours.project)
    log_in(client, _member(db, world, Role.SALES))
    path = f"/p/{world.ours.project.id}/leads"

    page = client.get(path)
    assert page.status_code == 200
    assert "Iryna" in page.text and "+380501234567" in page.text and "Two rooms" in page.text
    marked = client.post(
        f"{path}/{lead.id}/target",
        data={"target": "true", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    db.refresh(lead)
    assert lead.is_target is True
    assert client.get(f"{path}?kind=callback").text.count("Iryna") == 0


def test_a_viewer_sees_leads_masked_and_may_not_mark(
    client: TestClient, db: Session, world: World
) -> None:
    lead = _form_lead(db, world.ours.project)
    log_in(client, _member(db, world, Role.VIEWER))
    path = f"/p/{world.ours.project.id}/leads"

    page = client.get(path)
    assert "+380501234567" not in page.text and "+38050•••••67" in page.text
    refused = client.post(
        f"{path}/{lead.id}/target", data={"target": "true", "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403
    other = client.get(f"/p/{world.outsider.project.id}/leads")
    assert other.status_code == 404


def test_forms_settings_are_saved_and_refuse_secret_fields(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    log_in(client, world.ours.owner.email)
    path = f"/p/{project.id}/settings/forms"
    token = csrf_of(client.get(path).text)

    saved = client.post(
        path,
        data={
            "enabled": "on",
            "selector": "form.contact",
            "allowed_fields": "message\ncity",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    refused = client.post(
        path,
        data={"enabled": "on", "allowed_fields": "card_number", "csrf_token": token},
    )

    assert saved.status_code == 303
    db.refresh(project)
    assert FormPolicy.from_extra(project.extra) == FormPolicy(
        True, "form.contact", ("message", "city")
    )
    assert refused.status_code == 400 and "card_number" in refused.text
    db.refresh(project)
    assert FormPolicy.from_extra(project.extra).allowed_fields == ("message", "city")
    page = client.get(f"{path}?lang=uk")
    assert "Відстеження форм" in page.text
