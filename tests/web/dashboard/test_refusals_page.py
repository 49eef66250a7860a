"""The "Refused visits" settings page: what the refusal log holds, in words, for every member."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import log_in
from tests.web.tracking.test_api import GOOGLEBOT, SITE, set_up_site

HOSTILE = 'http://localhost:8000"><script>alert(1)</script>'


def _viewer(db: Session, world: World) -> str:
    email = "viewer@acme-realty.example"
    user = create_user(db, email, PASSWORD)
    set_membership(db, user, world.ours.project, Role.VIEWER)
    db.commit()
    return email


def _visit(
    client: TestClient, key: str, origin: str, agent: str = "Mozilla/5.0 Firefox/125.0"
) -> None:
    body = {"key": key, "url": f"{origin}/contacts", "referrer": "", "cookies": {}}
    headers = {"Origin": origin, "User-Agent": agent}
    client.post("/t/v1/visit", content=json.dumps(body), headers=headers)


def test_a_viewer_sees_a_refused_origin_at_once_with_its_hint_and_link(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    project_id = world.ours.project.id
    log_in(client, _viewer(db, world))
    _visit(client, site.key, "http://localhost:8000")
    _visit(client, site.key, "http://localhost:8000")
    _visit(client, site.key, SITE, GOOGLEBOT)
    page = client.get(f"/p/{project_id}/settings/refusals?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Refused visits" in text and "http://localhost:8000" in text
    assert "Site not in the allowed domains" in text
    assert f'href="/p/{project_id}/settings">Add this domain to the allowed domains' in text
    assert "Bot or testing tool" in text and "crawler" in text
    assert "test with a normal browser" in text
    assert f'href="/p/{project_id}/settings/refusals" aria-current="page"' in text


def test_the_origin_seen_is_shown_verbatim_but_escaped_and_translated_words_around_it(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    log_in(client, _viewer(db, world))
    _visit(client, site.key, HOSTILE)
    for lang, words in (("ru", "Сайта нет среди разрешённых доменов"), ("uk", "Відхилені візити")):
        text = client.get(f"/p/{world.ours.project.id}/settings/refusals?lang={lang}").text
        assert words in text
        assert "<script>alert(1)</script>" not in text
        assert "http://localhost:8000&#34;&gt;&lt;script&gt;" in text


def test_another_projects_refusals_are_not_shown(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    log_in(client, _viewer(db, world))
    _visit(client, world.outsider.project.public_key, "http://other.example")
    _visit(client, site.key, "http://localhost:8000")
    text = client.get(f"/p/{world.ours.project.id}/settings/refusals").text
    assert "http://localhost:8000" in text and "other.example" not in text
    assert client.get(f"/p/{world.outsider.project.id}/settings/refusals").status_code == 404


def test_a_refused_callback_or_form_request_is_shown_in_words_not_as_its_code(
    client: TestClient, db: Session, world: World
) -> None:
    from datetime import UTC, datetime

    from ringtrail.storage.models import TrackingRefusal

    now = datetime.now(UTC)
    db.add(
        TrackingRefusal(
            project_id=world.ours.project.id,
            reason="lead_address_limit",
            detail="",
            count=50,
            first_seen_at=now,
            last_seen_at=now,
            sample_url=f"{SITE}/contacts",
            sample_user_agent="Mozilla/5.0",
        )
    )
    db.commit()
    log_in(client, _viewer(db, world))
    for lang, words in (
        ("en", "Too many requests from one IP address"),
        ("uk", "Забагато заявок з однієї IP-адреси"),
    ):
        text = client.get(f"/p/{world.ours.project.id}/settings/refusals?lang={lang}").text
        assert words in text
        assert ">lead_address_limit<" not in text
