"""/api/v1/projects/{id}/bots: the owner's bot lists and signals, read, changed, audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.storage.models import AuditEntry, Project
from tests.conftest import World
from tests.web.api.keys import project_key


def bots_url(world: World) -> str:
    return f"/api/v1/projects/{world.ours.project.id}/bots"


def test_the_defaults_then_a_change_that_is_stored_and_audited(
    client: TestClient, world: World, db: Session
) -> None:
    url, auth = bots_url(world), world.ours.project_auth
    assert client.get(url, headers=auth).json() == {
        "allow": [],
        "deny": [],
        "behaviour": True,
        "data_centres": False,
    }
    changed = client.patch(
        url,
        json={"allow": ["MyUptimeChecker", "203.0.113.0/24"], "data_centres": True},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "allow": ["MyUptimeChecker", "203.0.113.0/24"],
        "deny": [],
        "behaviour": True,
        "data_centres": True,
    }
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None and project.extra["bots"]["allow"][0] == "MyUptimeChecker"
    assert "project.bots" in db.scalars(select(AuditEntry.action)).all()
    kept = client.patch(url, json={"deny": ["PartnerScraper"]}, headers=auth).json()
    assert kept["allow"] == ["MyUptimeChecker", "203.0.113.0/24"]
    assert kept["deny"] == ["PartnerScraper"]


def test_an_unusable_entry_is_a_422_naming_the_list(client: TestClient, world: World) -> None:
    response = client.patch(
        bots_url(world), json={"deny": ["300.1.2.3/8"]}, headers=world.ours.project_auth
    )
    assert response.status_code == 422
    assert "deny" in response.text


def test_a_marketer_reads_but_cannot_change_and_outsiders_see_nothing(
    client: TestClient, world: World, db: Session
) -> None:
    marketer = project_key(db, world.ours, Role.MARKETER)
    assert client.get(bots_url(world), headers=marketer).status_code == 200
    refused = client.patch(bots_url(world), json={"behaviour": False}, headers=marketer)
    assert refused.status_code == 403
    outsider = client.get(bots_url(world), headers=world.outsider.project_auth)
    assert outsider.status_code in (403, 404)
