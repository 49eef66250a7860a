"""GET /api/v1/projects/{id}/integrations/{destination_id}/conversions.csv and its summary:
the import file of the days asked, its counts, who may have it, and bad input in words."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.conftest import World
from tests.integrations.conversion_file_rows import GCLID, arrange
from tests.web.api.keys import project_key


def test_the_file_and_its_summary(client: TestClient, db: Session, world: World) -> None:
    files = arrange(db, world.ours.project)
    base = f"/api/v1/projects/{world.ours.project.id}/integrations/{files.google.id}/conversions"
    days = {"from": files.day.isoformat(), "to": files.day.isoformat()}
    got = client.get(f"{base}.csv", params=days, headers=world.ours.project_auth)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert 'filename="google-ads-click-conversions-' in got.headers["content-disposition"]
    assert (got.headers["x-ringtrail-conversions"], got.headers["x-ringtrail-left-out"]) == (
        "2",
        "5",
    )
    assert got.text.startswith("Parameters:TimeZone=Europe/Kyiv\r\nGoogle Click ID,")
    assert GCLID in got.text
    summary = client.get(f"{base}/summary", params=days, headers=world.ours.project_auth)
    assert summary.status_code == 200
    body = summary.json()
    assert (body["conversions"], body["calls_seen"]) == (2, 7)
    assert {"reason": "click older than 90 days", "calls": 1} in body["left_out"]


def test_without_days_it_is_the_last_week(client: TestClient, db: Session, world: World) -> None:
    files = arrange(db, world.ours.project)
    url = f"/api/v1/projects/{world.ours.project.id}/integrations/{files.yandex.id}/conversions.csv"
    got = client.get(url, headers=world.ours.project_auth)
    assert got.status_code == 200
    assert got.headers["x-ringtrail-conversions"] == "2"
    assert got.text.startswith("ClientId,DateTime,PhoneNumber,")


def test_bad_days_are_refused_in_words(client: TestClient, db: Session, world: World) -> None:
    files = arrange(db, world.ours.project)
    url = f"/api/v1/projects/{world.ours.project.id}/integrations/{files.google.id}/conversions.csv"
    got = client.get(url, params={"from": "2026-13-01"}, headers=world.ours.project_auth)
    assert got.status_code == 422
    assert "must be a day like 2026-12-01" in got.text
    backwards = client.get(url, params={"from": "2026-12-05", "to": "2026-12-01"},
                           headers=world.ours.project_auth)  # fmt: skip
    assert backwards.status_code == 422 and "must not be before from" in backwards.text


def test_viewers_and_outsiders_get_no_file(client: TestClient, db: Session, world: World) -> None:
    files = arrange(db, world.ours.project)
    url = f"/api/v1/projects/{world.ours.project.id}/integrations/{files.google.id}/conversions.csv"
    viewer = client.get(url, headers=project_key(db, world.ours, Role.VIEWER))
    assert viewer.status_code == 403
    outsider = client.get(url, headers=world.outsider.project_auth)
    assert outsider.status_code == 404
    theirs = (
        f"/api/v1/projects/{world.outsider.project.id}/integrations/{files.google.id}"
        "/conversions.csv"
    )
    assert client.get(theirs, headers=world.outsider.project_auth).status_code == 404
