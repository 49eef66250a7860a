"""The "Bots" settings page: every member sees the lists, admins and owners change them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.storage.models import Project
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in


def test_an_owner_saves_the_lists_and_switches_and_a_bad_entry_says_why(
    client: TestClient, db: Session, world: World
) -> None:
    project_id = world.ours.project.id
    log_in(client, world.ours.owner.email)
    page = client.get(f"/p/{project_id}/settings/bots")
    assert page.status_code == 200
    assert 'name="allow"' in page.text and 'name="behaviour" value="1" checked' in page.text
    token = csrf_of(page.text)
    saved = client.post(
        f"/p/{project_id}/settings/bots",
        data={
            "csrf_token": token,
            "allow": "MyUptimeChecker\n203.0.113.0/24\n",
            "deny": "PartnerScraper",
            "data_centres": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "bots_saved" in saved.headers["location"]
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None
    assert project.extra["bots"] == {
        "allow": ["MyUptimeChecker", "203.0.113.0/24"],
        "deny": ["PartnerScraper"],
        "behaviour": False,
        "data_centres": True,
    }
    shown = client.get(saved.headers["location"])
    assert "The bot settings were saved." in shown.text and "PartnerScraper" in shown.text
    bad = client.post(
        f"/p/{project_id}/settings/bots",
        data={"csrf_token": token, "deny": "ab"},
    )
    assert bad.status_code == 400
    assert "The bot settings could not be saved." in bad.text and "too short" in bad.text


def test_a_viewer_sees_the_page_in_ukrainian_but_cannot_change_it(
    client: TestClient, db: Session, world: World
) -> None:
    user = create_user(db, "viewer@acme-realty.example", PASSWORD)
    set_membership(db, user, world.ours.project, Role.VIEWER)
    db.commit()
    log_in(client, "viewer@acme-realty.example")
    project_id = world.ours.project.id
    page = client.get(f"/p/{project_id}/settings/bots", headers={"Accept-Language": "uk"})
    assert page.status_code == 200 and "Ніколи не бот" in page.text
    assert 'type="submit"' not in page.text.split('action="/p/')[1].split("</form>")[0]
    refused = client.post(
        f"/p/{project_id}/settings/bots", data={"csrf_token": csrf_of(page.text), "allow": "x1y"}
    )
    assert refused.status_code == 403
