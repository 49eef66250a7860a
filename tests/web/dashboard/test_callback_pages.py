"""The callback widget's dashboard pages: its settings, and the worklist sales work."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.callback_widget import WidgetSettings
from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.storage.models import CallbackRequest, Lead, Project
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in


def _member(db: Session, world: World, role: Role) -> str:
    email = f"{role.value}@acme-realty.example"
    set_membership(db, create_user(db, email, PASSWORD), world.ours.project, role)
    db.commit()
    return email


def _form(page: str) -> dict[str, str]:
    """Every field of the settings form as the page shows it (inputs and the selects)."""
    fields = dict(
        re.findall(
            r'<input id="[^"]*" name="([^"]+)" type="(?:text|tel|number|time|color)"'
            r'[^>]*value="([^"]*)"',
            page,
        )
    )
    for name in ("language", "position"):
        select = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', page, re.S)
        assert select is not None
        chosen = re.search(r'<option value="([^"]+)" selected', select.group(1))
        fields[name] = chosen.group(1) if chosen else ""
    return fields


def _request(db: Session, project: Project, status: str = "waiting") -> CallbackRequest:
    lead = Lead(project_id=project.id, kind="callback", phone_e164="+380501234567",
                source="google", payload={})  # fmt: skip
    db.add(lead)
    db.flush()
    request = CallbackRequest(
        project_id=project.id, lead_id=lead.id, phone_e164="+380501234567", language="uk",
        requested_at=datetime.now(UTC) - timedelta(hours=1), status=status,
        due_at=datetime.now(UTC) + timedelta(hours=12), scheduled=True, attempts=0, payload={},
    )  # fmt: skip
    db.add(request)
    db.commit()
    return request


def test_the_owner_switches_the_widget_on_with_hours_texts_and_limits(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    log_in(client, world.ours.owner.email)
    path = f"/p/{project.id}/settings/callback-widget"
    page = client.get(path)
    assert page.status_code == 200
    data = {
        **_form(page.text),
        "csrf_token": csrf_of(page.text),
        "enabled": "on",
        "business_number": "044 123 45 67",
        "opens": "10:00",
        "closes": "19:00",
        "text_uk_button": "Чекаю дзвінка",
        "per_address_per_hour": "7",
        "calls_per_number_per_day": "2",
        "blocked_numbers": "050 999 88 77\n+380509998876",
    }
    saved = client.post(path, data={**data, "days": ["0", "2", "4"]}, follow_redirects=False)
    assert saved.status_code == 303, re.findall(r'role="alert">(.*?)</div>', saved.text, re.S)
    db.refresh(project)
    settings = WidgetSettings.of(project.extra)
    assert settings.enabled and settings.business_number == "+380441234567"
    assert settings.hours.days == (0, 2, 4)
    assert settings.hours.opens.hour == 10 and settings.hours.closes.hour == 19
    assert settings.text("uk", "button") == "Чекаю дзвінка"
    assert settings.limits.per_address_per_hour == 7
    assert settings.limits.blocked_numbers == ("+380509998877", "+380509998876")

    refused = client.post(path, data={**data, "opens": "20:00", "closes": "08:00"})
    assert refused.status_code == 400 and "hours.closes" in refused.text
    again = client.get(f"{path}?lang=ru")
    assert "Виджет обратного звонка" in again.text and "Чекаю дзвінка" in again.text


def test_sales_see_the_worklist_and_call_now_or_mark_done(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    waiting = _request(db, project)
    log_in(client, _member(db, world, Role.SALES))
    path = f"/p/{project.id}/callbacks"
    page = client.get(f"{path}?lang=uk")
    assert page.status_code == 200
    assert "+380501234567" in page.text and "Кому передзвонити" in page.text
    assert "(поза робочими годинами)" in page.text
    token = csrf_of(page.text)

    now = client.post(f"{path}/{waiting.id}/call-now", data={"csrf_token": token},
                      follow_redirects=False)  # fmt: skip
    assert now.status_code == 303
    db.refresh(waiting)
    assert waiting.status == "waiting" and not waiting.scheduled
    assert waiting.due_at is not None and waiting.due_at <= datetime.now(UTC)

    done = client.post(f"{path}/{waiting.id}/done", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    db.refresh(waiting)
    assert waiting.status == "done" and waiting.handled_at is not None


def test_a_viewer_sees_the_worklist_masked_and_may_not_work_it(
    client: TestClient, db: Session, world: World
) -> None:
    waiting = _request(db, world.ours.project)
    log_in(client, _member(db, world, Role.VIEWER))
    path = f"/p/{world.ours.project.id}/callbacks"
    page = client.get(path)
    assert "+380501234567" not in page.text and "Call now" not in page.text
    refused = client.post(f"{path}/{waiting.id}/done", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403
    assert client.get(f"/p/{world.outsider.project.id}/callbacks").status_code == 404
    settings = client.get(f"/p/{world.ours.project.id}/settings/callback-widget")
    assert settings.status_code in (403, 404)
