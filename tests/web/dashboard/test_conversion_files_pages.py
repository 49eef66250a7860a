"""A destination's conversions file page: pick the days, see what the file holds and why the
other calls are left out (in English, Russian and Ukrainian), download it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from tests.conftest import PASSWORD, World
from tests.integrations.conversion_file_rows import GCLID, arrange
from tests.web.dashboard.browser import log_in


def test_the_page_shows_the_counts_and_downloads_the_file(
    client: TestClient, db: Session, world: World
) -> None:
    files = arrange(db, world.ours.project)
    path = f"/p/{world.ours.project.id}/settings/integrations/{files.google.id}/conversions"
    log_in(client)
    form = client.get(f"{path}?lang=en")
    assert form.status_code == 200
    assert 'name="from" type="date"' in form.text and "Download the file" not in form.text
    day = files.day.isoformat()
    page = client.get(path, params={"from": day, "to": day, "lang": "en"})
    assert page.status_code == 200
    assert "Conversions in the file: 2 of 7 calls." in page.text
    assert "click older than 90 days" in page.text
    assert f'href="{path}.csv?from={day}&amp;to={day}"' in page.text
    got = client.get(f"{path}.csv", params={"from": day, "to": day})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert GCLID in got.text and got.text.startswith("Parameters:TimeZone=Europe/Kyiv")
    ru = client.get(path, params={"from": day, "to": day, "lang": "ru"})
    assert "Конверсий в файле: 2 из 7 звонков." in ru.text
    uk = client.get(path, params={"from": day, "to": day, "lang": "uk"})
    assert "Завантажити файл" in uk.text


def test_bad_days_are_explained_on_the_page(client: TestClient, db: Session, world: World) -> None:
    files = arrange(db, world.ours.project)
    path = f"/p/{world.ours.project.id}/settings/integrations/{files.yandex.id}/conversions"
    log_in(client)
    page = client.get(path, params={"from": "2026-12-09", "to": "2026-12-01", "lang": "en"})
    assert page.status_code == 400
    assert "These days cannot make a file." in page.text and "must not be before from" in page.text


def test_a_viewer_may_not_open_it(client: TestClient, db: Session, world: World) -> None:
    files = arrange(db, world.ours.project)
    viewer = create_user(db, "viewer@acme-realty.example", PASSWORD)
    set_membership(db, viewer, world.ours.project, Role.VIEWER)
    db.commit()
    log_in(client, email="viewer@acme-realty.example")
    path = f"/p/{world.ours.project.id}/settings/integrations/{files.google.id}/conversions"
    assert client.get(path).status_code == 403
    assert client.get(f"{path}.csv").status_code == 403
