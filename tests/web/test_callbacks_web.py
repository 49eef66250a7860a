"""Missed calls as a worklist on the web: the overview's and the missed report's "calls that
need a callback" link to exactly those calls; the call page says so and sales mark it called
back (viewers cannot); the API has the same action and list filter; the missed report says
how long callbacks took."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.storage.models import Call
from tests.call_rows import T0, add_call
from tests.conftest import World
from tests.web.api.keys import project_key
from tests.web.dashboard.browser import csrf_of, log_in
from tests.web.dashboard.test_calls_log import listed, member

PERIOD = "from=2025-03-01&to=2025-03-31"
_HEADLINE_LINK = re.compile(
    r'<li class="headline" data-key="needs_callback">.*?<a class="headline-value[^"]*" '
    r'href="([^"]+)">(\d+)<',
    re.S,
)


def missed(db: Session, world: World, minutes: int, **values: object) -> Call:
    fields: dict[str, object] = {
        "started_at": T0 + timedelta(minutes=minutes),
        "status": "missed",
        "answered_at": None,
        "talk_seconds": 0,
        "needs_callback": True,
        **values,
    }
    return add_call(db, world.ours.project, **fields)


def worklist(db: Session, world: World) -> list[Call]:
    """Three missed calls waiting, one already rung back, two answered calls."""
    waiting = [missed(db, world, minutes) for minutes in (0, 60, 120)]
    missed(db, world, 180, needs_callback=False, callback_at=T0 + timedelta(hours=4))
    add_call(db, world.ours.project, started_at=T0 + timedelta(hours=5))
    add_call(db, world.ours.project, started_at=T0 + timedelta(hours=6))
    db.commit()
    return waiting


def test_the_overview_links_calls_that_need_a_callback_to_exactly_those_calls(
    client: TestClient, world: World, db: Session
) -> None:
    waiting = worklist(db, world)
    log_in(client)
    for path in (f"/p/{world.ours.project.id}", f"/p/{world.ours.project.id}/reports/missed"):
        page = client.get(f"{path}?{PERIOD}")
        assert page.status_code == 200
        found = _HEADLINE_LINK.search(page.text)
        assert found, path
        href, count = found.groups()
        assert count == "3"
        assert href.startswith(f"/p/{world.ours.project.id}/calls?")
        query = href.split("?", 1)[1].replace("&amp;", "&")
        assert "needs_callback=true" in query
        assert sorted(listed(client, world, query)) == sorted(c.id for c in waiting)


def test_the_call_page_says_it_needs_a_callback_and_sales_mark_it_called_back(
    client: TestClient, world: World, db: Session
) -> None:
    call = worklist(db, world)[0]
    log_in(client, email=member(db, world, Role.SALES))
    path = f"/p/{world.ours.project.id}/calls/{call.id}"
    page = client.get(path).text
    assert "This call needs a callback" in page
    assert f'action="{path}/callback"' in page
    refused = client.post(f"{path}/callback", data={}, follow_redirects=False)
    assert refused.status_code in (400, 403)
    response = client.post(
        f"{path}/callback",
        data={"csrf_token": csrf_of(page), "list_query": "needs_callback=true"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{path}?needs_callback=true"
    db.expire_all()
    stored = db.get(Call, call.id)
    assert stored is not None
    assert (stored.needs_callback, stored.callback_resolution) == (False, "called_back")
    assert stored.callback_at is not None and stored.callback_user_id is not None
    page = client.get(path).text
    assert "Called back by Sales person" in page
    assert "This call needs a callback" not in page
    assert call.id not in listed(client, world, "needs_callback=true")


def test_a_viewer_sees_that_it_needs_a_callback_but_no_button(
    client: TestClient, world: World, db: Session
) -> None:
    call = worklist(db, world)[0]
    log_in(client, email=member(db, world, Role.VIEWER))
    path = f"/p/{world.ours.project.id}/calls/{call.id}"
    page = client.get(path).text
    assert "This call needs a callback" in page
    assert f'action="{path}/callback"' not in page
    response = client.post(f"{path}/callback", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Call, call.id).needs_callback is True  # type: ignore[union-attr]


def test_the_api_marks_a_call_called_back_and_filters_the_list(
    client: TestClient, world: World, db: Session
) -> None:
    waiting = worklist(db, world)
    answered = add_call(db, world.ours.project, started_at=T0 + timedelta(hours=7))
    db.commit()
    base = f"/api/v1/projects/{world.ours.project.id}/calls"
    sales = project_key(db, world.ours, Role.SALES)
    viewer = project_key(db, world.ours, Role.VIEWER)
    open_ids = [
        c["id"] for c in client.get(f"{base}?needs_callback=true", headers=sales).json()["items"]
    ]
    assert sorted(open_ids) == sorted(c.id for c in waiting)
    assert client.post(f"{base}/{waiting[0].id}/callback", headers=viewer).status_code == 403
    response = client.post(f"{base}/{waiting[0].id}/callback", headers=sales)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["needs_callback"], body["callback_resolution"]) == (False, "called_back")
    assert body["callback_at"] is not None and body["callback_user_id"] is None
    assert client.post(f"{base}/{answered.id}/callback", headers=sales).status_code == 422
    outsider = project_key(db, world.outsider, Role.OWNER)
    assert client.post(f"{base}/{waiting[1].id}/callback", headers=outsider).status_code in (
        403,
        404,
    )
    left = client.get(f"{base}?needs_callback=true", headers=sales).json()["items"]
    assert sorted(c["id"] for c in left) == sorted(c.id for c in waiting[1:])


def test_the_missed_report_says_how_long_callbacks_took(
    client: TestClient, world: World, db: Session
) -> None:
    missed(db, world, 0, needs_callback=False, callback_at=T0 + timedelta(minutes=20))
    missed(db, world, 60, needs_callback=False, callback_at=T0 + timedelta(minutes=100))
    missed(db, world, 120, needs_callback=False, callback_at=T0 + timedelta(hours=5))
    missed(db, world, 180)
    db.commit()
    owner = project_key(db, world.ours, Role.OWNER)
    report = client.get(
        f"/api/v1/reports/missed?project_id={world.ours.project.id}&{PERIOD}", headers=owner
    ).json()
    figures = {item["key"]: item["value"] for item in report["headlines"]}
    assert figures["callback_wait_seconds"] == 40 * 60
    assert figures["called_back_within_hour"] == 0.5
    assert figures["needs_callback"] == 1
