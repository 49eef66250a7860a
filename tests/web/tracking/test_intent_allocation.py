"""Allocation on intent through /t/v1/visit: the first answer shows the pool's default number
(`awaiting_intent`, `i.js` named, no lease, nothing in the refusal log); the same call with
`intent: true` continues the visit and takes the number as a visit start does; a project left
at the default (`visit`) answers as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.refusals import NoNumber
from ringtrail.services.visits import VisitStart, VisitStarted
from ringtrail.storage.models import Visit
from tests.conftest import World
from tests.web.tracking.test_api import (
    BROWSER,
    COOKIES,
    EXTRA,
    GOOGLE_ADS_URL,
    MAIN,
    SITE,
    lease_rows,
    set_up_site,
    shown,
    visit,
)
from tests.web.tracking.test_reasons import refusals


def on_intent(db: Session, world: World) -> None:
    project = world.ours.project
    project.number_allocation = "intent"
    db.commit()


def test_an_intent_project_shows_the_default_and_names_the_intent_script(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    on_intent(db, world)

    first = visit(client, site)

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["reason"] == "awaiting_intent"
    assert "in view or touched" in body["detail"]
    assert shown(first) == {(MAIN, site.default, "default"), (EXTRA, site.default, "default")}
    assert body["scripts"] == ["i.js"]
    assert body["intent"] == {"numbers": [MAIN, EXTRA]}
    assert lease_rows(db) == []
    assert refusals(client, db) == []


def test_the_intent_call_continues_the_visit_and_takes_the_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    on_intent(db, world)
    first = visit(client, site).json()

    # The same page view as the start: same URL, with its campaign and click id.
    taken = visit(client, site, visitor=first["visitor"], intent=True)

    assert taken.status_code == 200, taken.text
    body = taken.json()
    number = site.pool_numbers[0]
    assert shown(taken) == {(MAIN, number, "pool"), (EXTRA, number, "pool")}
    assert "reason" not in body and "scripts" not in body
    assert body["visitor"] == first["visitor"]
    (lease,) = lease_rows(db)
    assert db.scalar(select(func.count()).select_from(Visit)) == 1
    visit_row = db.scalar(select(Visit))
    assert visit_row is not None and lease.visit_id == visit_row.id
    assert lease.snapshot["source"] == "google" and lease.snapshot["campaign"] == "spring"
    assert lease.snapshot["analytics"]["ga_client_id"] == "123456789.1700000000"
    # Another page of the visit keeps the number, like any visit start after one.
    again = visit(client, site, visitor=first["visitor"], url=f"{SITE}/x", referrer=SITE)
    assert shown(again) == shown(taken) and len(lease_rows(db)) == 1
    assert refusals(client, db) == []


def test_a_visitor_who_never_shows_intent_never_takes_a_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=1)
    on_intent(db, world)
    tokens = [visit(client, site).json()["visitor"] for _ in range(3)]
    for token in tokens:
        page = visit(client, site, visitor=token, url=f"{SITE}/about", referrer=SITE)
        assert page.json()["reason"] == "awaiting_intent"
    assert lease_rows(db) == []
    # One pool number is enough for the one visitor who shows intent.
    taken = visit(client, site, visitor=tokens[1], intent=True)
    assert {kind for _, _, kind in shown(taken)} == {"pool"}


def test_a_visit_project_is_unchanged_and_ignores_nothing(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    assert world.ours.project.number_allocation == "visit"

    body = visit(client, site).json()

    assert {kind for _, _, kind in shown(visit(client, site, visitor=body["visitor"]))} == {"pool"}
    assert "reason" not in body and "scripts" not in body and "intent" not in body
    assert len(lease_rows(db)) == 1


def test_a_bot_on_an_intent_project_is_still_a_bot(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    on_intent(db, world)
    body = visit(client, site, user_agent="curl/8.5.0", intent=True).json()
    assert body["reason"] == "bot" and "scripts" not in body
    assert lease_rows(db) == []


def test_the_intent_script_is_served_like_t_js(client: TestClient) -> None:
    response = client.get("/i.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "intent: true" not in response.text and "intent:true" in response.text
    again = client.get("/i.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_many_pages_waiting_for_intent_do_not_make_a_visitor_a_bot(
    client: TestClient, db: Session, world: World
) -> None:
    """Pages waiting for intent send no heartbeats (there is no hold to keep), so they are not
    the pool views the `no_heartbeat` signal counts."""
    site = set_up_site(db, world)
    on_intent(db, world)
    token = visit(client, site).json()["visitor"]
    service = client.app.state.tracking_service  # type: ignore[attr-defined]
    start = datetime.now(UTC)

    def page(minute: int, intent: bool = False) -> VisitStarted:
        request = VisitStart(
            key=site.key,
            visitor_token=token,
            url=f"{GOOGLE_ADS_URL}&page={minute}",  # a page its rule shows the pool on
            referrer=SITE,
            cookies=COOKIES,
            visible=True,
            user_agent=BROWSER,
            client_address="198.51.100.7",
            origin=SITE,
            intent=intent,
        )
        answer: VisitStarted = service.start_visit(request, start + timedelta(minutes=minute))
        return answer

    for minute in range(1, 15):  # one a minute: the rate limits do not stop them
        assert page(minute).reason is NoNumber.AWAITING_INTENT
    taken = page(15, intent=True)
    assert taken.reason is None and {n.kind for n in taken.numbers} == {"pool"}
