"""The set-up checklist page, the installation check button and the pools' catch-all offer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.pools import create_pool
from ringtrail.services.source_rules import list_rules
from ringtrail.services.tracking import add_number
from tests.conftest import World
from tests.services.test_install_check import Page
from tests.services.test_install_check import Site as CustomerSite
from tests.web.dashboard.test_settings_pages import join, post, signed_in


@pytest.fixture(scope="module")
def customer_site() -> Iterator[CustomerSite]:
    server = CustomerSite()
    yield server
    server.server.shutdown()
    server.server.server_close()


def steps(html: str) -> dict[str, bool]:
    """The checklist as the page shows it: each step and whether it is ticked."""
    found = re.findall(r'data-step="(\w+)" data-done="(true|false)"', html)
    return {step: done == "true" for step, done in found}


def test_the_overview_leads_to_the_checklist_until_set_up(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    signed_in(client, "owner@acme-realty.example")
    overview = client.get(f"/p/{project.id}")
    assert "Finish setting up tracking" in overview.text
    assert f'href="/p/{project.id}/setup"' in overview.text
    page = client.get(f"/p/{project.id}/setup")
    assert page.status_code == 200
    assert steps(page.text) == {
        "numbers": False,
        "pool_and_rule": False,
        "tag_installed": False,
        "number_shown": False,
        "first_call": False,
    }
    for target in ("settings/numbers", "settings/pools", "settings", "calls"):
        assert f'href="/p/{project.id}/{target}"' in page.text
    assert f"data-key=&#34;{project.public_key}&#34;" in page.text


def test_the_checklist_ticks_from_the_data(client: TestClient, db: Session, world: World) -> None:
    project = world.ours.project
    add_number(db, project, {"number": "+380445550777", "source": "facebook"})
    db.commit()
    signed_in(client, "owner@acme-realty.example")
    ticked = steps(client.get(f"/p/{project.id}/setup").text)
    assert ticked["numbers"] and not ticked["pool_and_rule"]


def test_a_pool_without_a_rule_is_offered_the_catch_all_rule(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    pool = create_pool(db, project, {"name": "Website"}, numbers=["+380445550001"])
    db.commit()
    token = signed_in(client, "owner@acme-realty.example")
    page = client.get(f"/p/{project.id}/settings/pools").text
    offer = f'action="/p/{project.id}/settings/pools/{pool.id}/catch-all"'
    assert "No source rule shows this pool: it swaps nothing yet." in page
    assert offer in page
    answer = post(client, token, f"/p/{project.id}/settings/pools/{pool.id}/catch-all")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/settings/pools?done=rule_added")
    db.expire_all()
    assert [(r.conditions, r.pool_id) for r in list_rules(db, project)] == [([], pool.id)]
    page = client.get(f"/p/{project.id}/settings/pools").text
    assert offer not in page
    assert steps(client.get(f"/p/{project.id}/setup").text)["pool_and_rule"]


def test_the_offer_needs_the_tracking_permission_and_the_form_token(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    pool = create_pool(db, project, {"name": "Website"}, numbers=["+380445550001"])
    email = join(db, world, Role.VIEWER)
    path = f"/p/{project.id}/settings/pools/{pool.id}/catch-all"
    token = signed_in(client, email)
    assert post(client, token, path).status_code == 403
    assert client.get(f"/p/{project.id}/setup").status_code == 403
    assert "Finish setting up tracking" not in client.get(f"/p/{project.id}").text
    client.post("/logout", data={"csrf_token": token})
    token = signed_in(client, "owner@acme-realty.example")
    assert client.post(path, data={}, follow_redirects=False).status_code == 403
    outsider = create_pool(db, world.outsider.project, {"name": "Theirs"})
    db.commit()
    assert (
        post(client, token, f"/p/{project.id}/settings/pools/{outsider.id}/catch-all").status_code
        == 404
    )
    db.expire_all()
    assert list_rules(db, project) == [] and list_rules(db, world.outsider.project) == []


def test_the_check_button_says_what_is_wrong_in_words(
    client: TestClient, db: Session, world: World, customer_site: CustomerSite
) -> None:
    project = world.ours.project
    project.allowed_domains = ["127.0.0.1"]
    db.commit()
    customer_site.pages["/home"] = Page(body=b"<html><body><p>Welcome</p></body></html>")
    customer_site.pages["/old"] = Page(
        body=b'<html><head><script async src="http://testserver/t.js" data-key="pk_old">'
        b"</script></head><body></body></html>"
    )
    token = signed_in(client, "owner@acme-realty.example")
    path = f"/p/{project.id}/setup/check"
    missing = post(client, token, path, {"url": customer_site.url("/home")})
    assert missing.status_code == 200, missing.text
    assert (
        "No tracking tag on this page: paste the tag into the head of every page." in missing.text
    )
    wrong = post(client, token, path, {"url": customer_site.url("/old")})
    assert "carries another key (pk_old)" in wrong.text
    refused = post(client, token, path, {"url": "http://elsewhere.example/"})
    assert "elsewhere.example is not one of the project's allowed domains" in refused.text
