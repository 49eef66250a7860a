"""The projects page and a project's overview: members see their projects, nobody else's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from ringtrail.services.accounts import create_user
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import log_in


def test_home_lists_each_project_with_role_time_zone_and_currency(
    client: TestClient, world: World
) -> None:
    log_in(client)
    page = client.get("/").text
    project = world.ours.project
    assert f'href="/p/{project.id}"' in page
    assert project.name in page
    assert "Owner" in page
    assert project.timezone in page
    assert project.currency in page
    assert f'href="/p/{world.outsider.project.id}"' not in page


def test_a_user_without_projects_sees_an_empty_state(
    client: TestClient, world: World, db: Session
) -> None:
    create_user(db, "newcomer@acme-realty.example", PASSWORD)
    db.commit()
    log_in(client, email="newcomer@acme-realty.example")
    page = client.get("/")
    assert page.status_code == 200
    assert "No projects yet" in page.text
    assert world.ours.project.name not in page.text


def test_project_overview_shows_the_tracking_script_tag(client: TestClient, world: World) -> None:
    log_in(client)
    project = world.ours.project
    page = client.get(f"/p/{project.id}")
    assert page.status_code == 200
    assert project.name in page.text
    snippet = (
        f'<script async src="http://testserver/t.js" data-key="{project.public_key}"></script>'
    )
    assert str(escape(snippet)) in page.text


def test_tracking_tag_uses_the_configured_public_url(client: TestClient, world: World) -> None:
    client.app.state.dashboard.settings.public_url = "https://calls.acme-realty.example/"  # type: ignore[attr-defined]
    log_in(client)
    page = client.get(f"/p/{world.ours.project.id}").text
    assert str(escape('src="https://calls.acme-realty.example/t.js"')) in page


def test_another_tenants_project_does_not_exist_for_us(client: TestClient, world: World) -> None:
    log_in(client)
    response = client.get(f"/p/{world.outsider.project.id}")
    assert response.status_code == 404
    assert world.outsider.project.name not in response.text
    assert world.outsider.project.public_key not in response.text


def test_unknown_or_malformed_project_ids_are_not_found(client: TestClient, world: World) -> None:
    log_in(client)
    for path in ("/p/987654321", "/p/0", "/p/not-a-number", f"/p/{2**70}"):
        assert client.get(path).status_code == 404, path


def test_project_pages_need_a_signed_in_user(client: TestClient, world: World) -> None:
    path = f"/p/{world.ours.project.id}"
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"
