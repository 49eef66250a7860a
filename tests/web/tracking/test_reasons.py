"""/t/v1/visit says why it holds no tracking number, and refusals land in the refusal log."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import TrackingRefusal
from tests.conftest import World
from tests.web.tracking.test_api import GOOGLEBOT, SITE, set_up_site, shown, visit

HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36"
)


def refusals(client: TestClient, db: Session) -> list[TrackingRefusal]:
    client.app.state.tracking_service.refusals.flush()  # type: ignore[attr-defined]
    db.expire_all()
    return list(db.scalars(select(TrackingRefusal).order_by(TrackingRefusal.id)))


def test_a_visit_with_a_pool_number_carries_no_reason(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    body = visit(client, site).json()
    assert body["numbers"] and "reason" not in body and "bot" not in body
    assert refusals(client, db) == []


def test_bots_are_told_which_signal_made_them_bots(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    for agent, kind in (
        (GOOGLEBOT, "crawler"),
        (HEADLESS, "headless_browser"),
        ("curl/8.5.0", "http_client"),
        ("", "no_user_agent"),
        ("Mozilla/5.0 (Linux) Chrome-Lighthouse", "site_checker"),
    ):
        body = visit(client, site, user_agent=agent).json()
        assert (body["reason"], body["bot"]) == ("bot", kind), agent
        assert {n["kind"] for n in body["numbers"]} == {"default"}
    logged = {(r.reason, r.detail): r.count for r in refusals(client, db)}
    assert logged[("bot", "headless_browser")] == 1 and logged[("bot", "crawler")] == 1


def test_no_rule_an_offline_number_and_an_exhausted_pool_each_say_so(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=1)
    organic = visit(client, site, url=f"{SITE}/", referrer="").json()
    assert organic["numbers"] == [] and organic["reason"] == "no_rule"
    assert "rule points at it" in organic["detail"]
    flyer = visit(client, site, url=f"{SITE}/?utm_source=flyer").json()
    assert flyer["numbers"] == [] and flyer["reason"] == "number_not_shown"
    assert "reason" not in visit(client, site).json()
    exhausted = visit(client, site)
    assert exhausted.json()["reason"] == "pool_exhausted"
    assert {kind for _, _, kind in shown(exhausted)} == {"default"}
    logged = {(r.reason, r.detail) for r in refusals(client, db)}
    assert logged == {
        ("no_rule", ""),
        ("number_not_shown", ""),
        ("pool_exhausted", str(site.pool_id)),
    }


def test_a_project_without_a_main_number_says_there_is_nothing_to_replace(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    project = world.ours.project
    project.main_number, project.replace_numbers = None, []
    db.commit()
    body = visit(client, site).json()
    assert body["numbers"] == [] and body["reason"] == "no_original_number"


def test_an_origin_not_allowed_is_logged_under_the_keys_project_with_its_origin(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    for _ in range(3):
        visit(client, site, origin="http://localhost:8000", url="http://localhost:8000/x")
    other = dict(site.__dict__, key="no-such-key")
    visit(client, type(site)(**other), origin="http://localhost:8000")
    (row,) = refusals(client, db)
    assert (row.project_id, row.reason) == (world.ours.project.id, "origin_not_allowed")
    assert (row.detail, row.count, row.sample_url) == (
        "http://localhost:8000",
        3,
        "http://localhost:8000/x",
    )
    assert row.first_seen_at <= row.last_seen_at


def test_bodies_refused_before_the_project_is_known_are_readable_by_the_page(
    client: TestClient, db: Session, world: World
) -> None:
    set_up_site(db, world)
    origin = {"Origin": "https://any.example"}
    big = client.post("/t/v1/visit", content=b" " * 20_000, headers=origin)
    assert big.status_code == 413 and big.headers["access-control-allow-origin"] == origin["Origin"]
    garbage = client.post("/t/v1/visit", content=b"{not json", headers=origin)
    assert garbage.status_code == 400
    assert garbage.headers["access-control-allow-origin"] == origin["Origin"]
    # Other routes' 413s stay as they were: no CORS.
    api = client.post("/api/v1/projects", content=b" " * 2_000_000, headers=origin)
    assert api.status_code == 413 and "access-control-allow-origin" not in api.headers
    assert json.loads(big.content)["reason"] == "too_large"
