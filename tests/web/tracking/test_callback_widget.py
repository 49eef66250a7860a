"""The callback widget's public API: config, requests, anti-abuse, and the script itself."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rjsmin
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.refusals import list_refusals
from ringtrail.storage.models import Call, CallbackRequest, Lead
from tests.callback_fixtures import (  # noqa: F401 (fixtures)
    CUSTOMER,
    add_twilio_account,
    ask,
    closed_today,
    enable_widget,
    settings_fixture,
    twilio_stub_fixture,
)
from tests.conftest import World
from tests.twilio_stub import TwilioStub

STATIC = Path(__file__).parents[3] / "src" / "ringtrail" / "web" / "tracking" / "static"
WIDGET_BUDGET_GZIP = 10 * 1024
ORIGIN = "https://acme-realty.example"


@pytest.fixture
def key(db: Session, world: World) -> str:
    project = world.ours.project
    add_twilio_account(db, project)
    enable_widget(db, project)
    return project.public_key


def count(db: Session, model: type, *where: object) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def phones(n: int) -> list[str]:
    return [f"+38050{1000000 + i:07d}" for i in range(n)]


def test_a_burst_of_50_requests_from_one_address_makes_at_most_the_configured_leads_and_calls(
    client: TestClient, db: Session, world: World, twilio_stub: TwilioStub
) -> None:
    project = world.ours.project
    add_twilio_account(db, project)
    enable_widget(db, project, limits={"per_address_per_hour": 4, "per_visitor_per_day": 50})
    answers = [ask(client, project.public_key, phone) for phone in phones(50)]

    assert [a.status_code for a in answers].count(200) == 4
    refused = [a for a in answers if a.status_code != 200]
    assert {a.status_code for a in refused} == {429}
    assert {a.json()["reason"] for a in refused} == {"address_limit"}
    assert all(int(a.headers["Retry-After"]) > 0 for a in refused)
    assert count(db, Lead, Lead.kind == "callback") == 4
    assert count(db, CallbackRequest) == 4
    assert len(twilio_stub.calls) == 4
    assert count(db, Call, Call.direction == "outbound") == 4


def test_one_number_asked_for_again_and_again_is_rung_once(
    client: TestClient, db: Session, key: str, twilio_stub: TwilioStub
) -> None:
    answers = [ask(client, key, "050 123 4567") for _ in range(5)]
    # The repeats are the same request (no new lead, no new call) until the phone's own
    # daily limit (3 by default) refuses them.
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert {a.json()["reason"] for a in answers[3:]} == {"phone_limit"}
    assert count(db, Lead, Lead.kind == "callback") == 1
    assert len(twilio_stub.calls) == 1


def test_per_visitor_and_per_phone_limits_and_the_daily_cap_of_calls(
    client: TestClient, db: Session, world: World, twilio_stub: TwilioStub
) -> None:
    project = world.ours.project
    add_twilio_account(db, project)
    limits = {
        "per_address_per_hour": 100,
        "per_visitor_per_day": 2,
        "per_phone_per_day": 100,
        "calls_per_number_per_day": 1,
    }
    enable_widget(db, project, limits=limits)
    visitor = client.post(
        "/t/v1/visit",
        content=json.dumps({"key": project.public_key, "url": ORIGIN + "/"}),
        headers={"Content-Type": "text/plain", "Origin": ORIGIN},
    ).json()["visitor"]
    first, second, third = (ask(client, project.public_key, p, visitor=visitor) for p in phones(3))
    assert (first.status_code, second.status_code) == (200, 200)
    assert (third.status_code, third.json()["reason"]) == (429, "visitor_limit")

    # The number rung once today is not rung again, whoever asks (the first lead's window
    # has not passed, so this is a new visitor's request for the same number).
    again = ask(client, project.public_key, phones(1)[0])
    assert (again.status_code, again.json()["reason"]) == (429, "daily_calls")
    assert len(twilio_stub.calls) == 2


def test_honeypot_invalid_and_blocked_numbers_are_refused_with_reasons_the_operator_sees(
    client: TestClient, db: Session, world: World, runtime: object, twilio_stub: TwilioStub
) -> None:
    project = world.ours.project
    add_twilio_account(db, project)
    enable_widget(db, project, limits={"blocked_numbers": ["050 999 8877"]})
    bot = ask(client, project.public_key, CUSTOMER, website="http://spam.example")
    assert (bot.status_code, bot.json()["reason"]) == (403, "honeypot")
    bad = ask(client, project.public_key, "12345", lang="ru")
    assert (bad.status_code, bad.json()["reason"]) == (422, "invalid_phone")
    assert bad.json()["message"] == "Введите правильный номер телефона."
    bad_uk = ask(client, project.public_key, "0001112", lang="uk")
    assert bad_uk.json()["message"] == "Введіть правильний номер телефону."
    premium = ask(client, project.public_key, "+44 909 8790000")
    assert premium.json()["reason"] in ("uncallable_phone", "invalid_phone")
    blocked = ask(client, project.public_key, "+380509998877")
    assert (blocked.status_code, blocked.json()["reason"]) == (403, "blocked_number")
    assert "call us" in blocked.json()["message"]
    assert count(db, Lead) == 0 and not twilio_stub.calls

    service = client.app.state.tracking_service  # type: ignore[attr-defined]
    service.refusals.flush()
    codes = {row.reason for row in list_refusals(db, project.id)}
    assert {"lead_honeypot", "lead_invalid_phone", "lead_blocked_number"} <= codes


def test_outside_working_hours_the_request_is_scheduled_for_the_next_opening(
    client: TestClient, db: Session, world: World, twilio_stub: TwilioStub
) -> None:
    project = world.ours.project
    add_twilio_account(db, project)
    enable_widget(db, project, hours=closed_today(project.timezone))
    answer = ask(client, project.public_key, lang="ru")
    assert answer.status_code == 200
    assert answer.json()["status"] == "scheduled"
    assert answer.json()["at"] == "завтра в 09:00"
    assert answer.json()["message"].endswith("Мы позвоним вам завтра в 09:00.")
    assert not twilio_stub.calls
    db.expire_all()
    request = db.scalars(select(CallbackRequest)).one()
    assert request.scheduled and request.status == "waiting"
    assert request.due_at is not None and request.due_at > datetime.now(UTC)


def test_the_config_speaks_the_pages_language_and_says_whether_it_is_open(
    client: TestClient, db: Session, world: World, key: str
) -> None:
    config = client.get(
        "/w/v1/config", params={"key": key, "lang": "uk"}, headers={"Origin": ORIGIN}
    )
    assert config.status_code == 200
    assert config.headers["Access-Control-Allow-Origin"] == ORIGIN
    body = config.json()
    assert body["language"] == "uk" and body["texts"]["button"] == "Передзвоніть мені"
    assert body["open"] is True and body["opens_at"] is None
    assert body["delay"] == {"seconds": 0, "scroll_percent": 0, "exit_intent": True}
    foreign = client.get(
        "/w/v1/config", params={"key": key}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    off = client.get("/w/v1/config", params={"key": world.outsider.project.public_key})
    assert off.status_code == 404


def test_another_sites_origin_and_a_project_without_the_widget_are_refused(
    client: TestClient, db: Session, world: World, key: str, twilio_stub: TwilioStub
) -> None:
    foreign = ask(client, key, origin="https://evil.example")
    assert foreign.status_code == 403
    # Readable by the page (as the tracking API's refusal), with nothing of the project in it.
    assert foreign.json() == {"reason": "origin_not_allowed"}
    off = ask(client, world.outsider.project.public_key)
    assert off.status_code == 404
    allowed = ask(client, key, origin=ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert len(twilio_stub.calls) == 1


def test_the_visit_answer_names_the_widget_script_only_when_it_is_on(
    client: TestClient, db: Session, world: World
) -> None:
    def visit(project_key: str) -> dict[str, object]:
        body = {"key": project_key, "url": ORIGIN + "/"}
        headers = {"Content-Type": "text/plain", "Origin": ORIGIN}
        answer = client.post("/t/v1/visit", content=json.dumps(body), headers=headers)
        return dict(answer.json())

    project = world.ours.project
    assert "w.js" not in visit(project.public_key).get("scripts", [])  # type: ignore[operator]
    enable_widget(db, project)
    client.app.state.tracking_service.configs.clear()  # type: ignore[attr-defined]
    assert "w.js" in visit(project.public_key)["scripts"]  # type: ignore[operator]


def test_w_js_is_served_minified_from_its_source_and_within_its_size_budget(
    client: TestClient,
) -> None:
    source = (STATIC / "w.js").read_text(encoding="utf-8")
    minified = (STATIC / "w.min.js").read_text(encoding="utf-8")
    assert rjsmin.jsmin(source, keep_bang_comments=True) == minified, (
        "w.min.js is stale: run `python -m rjsmin -b < w.js > w.min.js` in its folder"
    )
    answer = client.get("/w.js", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert answer.content.decode() == minified
    assert len(gzip.compress(minified.encode(), compresslevel=9)) <= WIDGET_BUDGET_GZIP
    again = client.get("/w.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    assert "import " not in minified and "http" not in minified.replace("https://", "")
