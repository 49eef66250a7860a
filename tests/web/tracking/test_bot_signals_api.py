"""Suspected bots through /t/v1/visit: the default number, the reason, the trace, the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.bot_signals import NO_HEARTBEAT_WINDOW, NO_STORAGE_VIEWS
from ringtrail.storage.models import Project, Visit
from tests.conftest import World
from tests.web.tracking.test_api import BROWSER, GOOGLE_ADS_URL, SITE, Site, set_up_site, visit
from tests.web.tracking.test_reasons import refusals

UPTIME = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
FACEBOOK_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Mobile/21E236 [FBAN/FBIOS;FBAV/458.0.0.35.105;FBBV/583012310;FBDV/iPhone15,2;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.4.1;FBSS/3;FBCR/OrangeBotswana;FBID/phone;FBLC/en_GB;FBOP/5]"
)


def bare_visit(client: TestClient, site: Site, user_agent: str = BROWSER) -> Any:
    """A page view that brings back nothing: no visitor token, no cookies."""
    body = {"key": site.key, "url": GOOGLE_ADS_URL, "referrer": "", "cookies": {}}
    return client.post(
        "/t/v1/visit",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": SITE, "User-Agent": user_agent},
    )


def set_policy(db: Session, world: World, **policy: Any) -> None:
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    project.extra = {**(project.extra or {}), "bots": policy}
    db.commit()


def last_trace(db: Session) -> list[str]:
    db.expire_all()
    row = db.scalars(select(Visit).order_by(Visit.id.desc()).limit(1)).one()
    return list(row.source_trace)


def test_the_facebook_visitor_on_orange_botswana_takes_a_pool_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    body = visit(client, site, user_agent=FACEBOOK_IOS).json()
    assert {n["kind"] for n in body["numbers"]} == {"pool"}
    assert "reason" not in body


def test_a_client_that_keeps_nothing_gets_the_default_number_and_says_why(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    answers = [bare_visit(client, site).json() for _ in range(NO_STORAGE_VIEWS)]
    assert all({n["kind"] for n in a["numbers"]} == {"pool"} for a in answers[:-1])
    suspect = answers[-1]
    assert (suspect["reason"], suspect["bot"]) == ("bot", "no_storage")
    assert suspect["detail"].startswith("suspected bot: ")
    assert {n["number"] for n in suspect["numbers"]} == {site.default}
    assert any(line.startswith("bot: suspected (no_storage)") for line in last_trace(db))
    logged = {(r.reason, r.detail): r.count for r in refusals(client, db)}
    assert logged == {("bot", "no_storage"): 1}


def test_the_owner_s_deny_list_keeps_a_browser_like_client_off_the_pool(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    set_policy(db, world, deny=["AcmeKiosk"])
    body = visit(client, site, user_agent=BROWSER + " AcmeKiosk/3").json()
    assert (body["reason"], body["bot"]) == ("bot", "owner_denied")
    assert "AcmeKiosk" in body["detail"]
    assert {n["number"] for n in body["numbers"]} == {site.default}
    assert {(r.reason, r.detail) for r in refusals(client, db)} == {("bot", "owner_denied")}


def test_the_owner_s_allow_list_lets_their_own_monitor_take_a_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    refused = visit(client, site, user_agent=UPTIME).json()
    assert (refused["reason"], refused["bot"]) == ("bot", "site_checker")
    set_policy(db, world, allow=["UptimeRobot"])
    client.app.state.tracking_service.configs.clear()  # type: ignore[attr-defined]
    body = visit(client, site, user_agent=UPTIME, visitor=refused["visitor"]).json()
    assert "reason" not in body and {n["kind"] for n in body["numbers"]} == {"pool"}
    assert "bot: no, the project's allow-list names it (UptimeRobot)" in last_trace(db)


def test_behaviour_signals_off_let_a_storage_less_client_through(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=NO_STORAGE_VIEWS + 1)
    set_policy(db, world, behaviour=False)
    answers = [bare_visit(client, site).json() for _ in range(NO_STORAGE_VIEWS + 1)]
    assert all("reason" not in a for a in answers)


def test_every_bot_kind_has_words_on_the_refusals_page() -> None:
    from ringtrail.domain.bot_policy import SIGNAL_KINDS
    from ringtrail.domain.bots import BOT_KINDS
    from ringtrail.web.dashboard.settings_refusals import BOT_KINDS as WORDS

    assert set(WORDS) == {*BOT_KINDS, *SIGNAL_KINDS}


def test_a_heartbeat_from_a_visible_tab_is_noted_for_the_visitor(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    started = visit(client, site).json()
    service = client.app.state.tracking_service  # type: ignore[attr-defined]
    public_id = service.signer.read_visitor_token(started["visitor"])
    key = f"beat:{world.ours.project.id}:{public_id}"
    now = datetime.now(UTC)
    assert service.bot_signals.counter.counts([(key, NO_HEARTBEAT_WINDOW, False)], now) == [0]
    body = {"key": site.key, "visitor": started["visitor"], "visit": started["visit"]}
    beat = client.post("/t/v1/heartbeat", content=json.dumps(body), headers={"Origin": SITE})
    assert beat.status_code == 200, beat.text
    assert service.bot_signals.counter.counts([(key, NO_HEARTBEAT_WINDOW, False)], now) == [1]
