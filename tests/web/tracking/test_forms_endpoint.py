"""Form tracking over HTTP: the visit answer names /f.js only for projects that track forms,
/f.js is served like /t.js within its 3 KB budget, POST /t/v1/form records one lead, refuses
foreign origins and disabled projects, and limits its rate."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import rjsmin
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import Lead, Project
from ringtrail.web.tracking.static_scripts import load_static_script
from tests.conftest import World

STATIC = Path(__file__).parents[3] / "src" / "ringtrail" / "web" / "tracking" / "static"
FORMS_BUDGET_GZIPPED = 3 * 1024
SITE = "https://acme-realty.example"
BROWSER = {
    "Origin": SITE,
    "Content-Type": "text/plain;charset=UTF-8",
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0 Safari/537.36",
}


def enable_forms(db: Session, project: Project, **options: Any) -> None:
    project.extra = {**(project.extra or {}), "forms": {"enabled": True, **options}}
    db.commit()


def start_visit(client: TestClient, project: Project) -> dict[str, Any]:
    body = {"key": project.public_key, "url": f"{SITE}/?utm_source=news&utm_medium=email"}
    response = client.post("/t/v1/visit", content=json.dumps(body), headers=BROWSER)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def post_form(client: TestClient, body: dict[str, Any], origin: str = SITE) -> Any:
    return client.post(
        "/t/v1/form", content=json.dumps(body), headers={**BROWSER, "Origin": origin}
    )


def test_the_visit_answer_lists_the_forms_script_only_when_forms_are_enabled(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    assert "scripts" not in start_visit(client, project)

    enable_forms(db, project, selector="form.lead", allowed_fields=["message"])
    client.app.state.tracking_service.configs.clear()  # type: ignore[attr-defined]
    answer = start_visit(client, project)

    assert answer["scripts"] == ["f.js"]
    assert answer["forms"] == {"selector": "form.lead", "fields": ["message"]}


def test_forms_script_is_served_cacheable_small_and_up_to_date(client: TestClient) -> None:
    response = client.get("/f.js", headers={"Accept-Encoding": "identity"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.content == (STATIC / "f.min.js").read_bytes()
    etag = response.headers["etag"]
    assert (
        client.get(
            "/f.js", headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
        ).status_code
        == 304
    )
    script = load_static_script("f.min.js")
    assert len(script.gzipped.body) <= FORMS_BUDGET_GZIPPED
    assert gzip.decompress(script.gzipped.body) == script.plain.body
    source = (STATIC / "f.js").read_text(encoding="utf-8")
    assert (STATIC / "f.min.js").read_text(encoding="utf-8") == rjsmin.jsmin(
        source, keep_bang_comments=True
    ), "f.min.js is stale: run `python -m rjsmin -b < f.js > f.min.js` in its folder"
    for forbidden in ("innerHTML", "eval(", "document.write", "console."):
        assert forbidden not in source, forbidden
    assert not re.search(r"https?://", source.split("*/", 1)[1])  # no CDN, nothing external


def test_a_posted_form_is_one_lead_of_the_visitors_visit(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    enable_forms(db, project, allowed_fields=["message"])
    visitor = start_visit(client, project)["visitor"]
    body = {
        "key": project.public_key,
        "visitor": visitor,
        "id": "submit-1",
        "url": f"{SITE}/contact",
        "fields": {"name": "Olena", "tel": "067 123 45 67", "message": "hi", "pwd": "x"},
    }

    first, again = post_form(client, body), post_form(client, body)

    assert first.status_code == 200 and first.json() == {"ok": True, "outcome": "created"}
    assert first.headers["access-control-allow-origin"] == SITE
    assert again.json()["outcome"] == "duplicate"
    leads = db.scalars(select(Lead).where(Lead.project_id == project.id)).all()
    assert len(leads) == 1
    lead = leads[0]
    assert (lead.kind, lead.phone_e164, lead.name, lead.source, lead.medium) == (
        "form",
        "+380671234567",
        "Olena",
        "news",
        "email",
    )
    assert lead.payload["fields"] == {"message": "hi"}
    assert lead.payload["page"] == f"{SITE}/contact"


def test_forms_from_another_origin_or_a_project_without_forms_are_refused(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    body = {"key": project.public_key, "fields": {"phone": "0671234567"}}

    assert post_form(client, body).json()["reason"] == "forms_disabled"
    enable_forms(db, project)
    refused = post_form(client, body, origin="https://evil.example")
    assert (refused.status_code, refused.json()["reason"]) == (403, "origin_not_allowed")
    assert db.scalars(select(Lead).where(Lead.project_id == project.id)).all() == []


def test_a_filled_honeypot_looks_like_success_and_makes_no_lead(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    enable_forms(db, project)
    body = {"key": project.public_key, "fields": {"phone": "0671234567"}, "hp": "http://spam"}

    response = post_form(client, body)

    assert response.json() == {"ok": True, "outcome": "created"}
    assert db.scalars(select(Lead).where(Lead.project_id == project.id)).all() == []


def test_form_posts_are_rate_limited_per_visitor(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    enable_forms(db, project)
    visitor = start_visit(client, project)["visitor"]
    statuses = [
        post_form(
            client,
            {
                "key": project.public_key,
                "visitor": visitor,
                "fields": {"phone": f"06712345{i:02d}"},
            },
        ).status_code
        for i in range(7)
    ]

    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
