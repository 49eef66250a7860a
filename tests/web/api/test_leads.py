"""/api/v1/projects/{id}/leads: a site's backend posts its forms (attributed by the visitor
token from our cookie), leads are listed and marked by role, another organisation's are 404."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.runtime import Runtime
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.storage.models import Lead, Visit, Visitor
from tests.conftest import World
from tests.web.api.keys import project_key

PUBLIC_ID = "ZyXwVuTsRqPoNmLkJiHgFe"


def leads_url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/leads{tail}"


def visitor_token(db: Session, world: World, runtime: Runtime) -> str:
    """A visitor of our project with one Google Ads visit, and the cookie's token for them."""
    project = world.ours.project
    now = datetime.now(UTC)
    visitor = Visitor(project_id=project.id, public_id=PUBLIC_ID, first_seen_at=now,
                      last_seen_at=now)  # fmt: skip
    db.add(visitor)
    db.flush()
    db.add(Visit(project_id=project.id, visitor_id=visitor.id, started_at=now, last_seen_at=now,
                 source="google", medium="cpc", campaign="brand"))  # fmt: skip
    db.commit()
    return TokenSigner(runtime.settings.resolved_secret_key()).visitor_token(PUBLIC_ID)


def test_a_backend_posts_a_form_with_the_cookies_visitor_token(
    client: TestClient, world: World, db: Session, runtime: Runtime
) -> None:
    token = visitor_token(db, world, runtime)
    body = {
        "visitor": token,
        "id": "order-17",
        "fields": {"message": "Need a flat", "password": "never"},
        "phone": "+380 67 123 45 67",
        "name": "Taras",
        "page": "https://acme-realty.example/contact",
    }

    created = client.post(leads_url(world, "/forms"), headers=world.ours.org_auth, json=body)
    again = client.post(leads_url(world, "/forms"), headers=world.ours.org_auth, json=body)

    assert created.status_code == 201, created.text
    lead = created.json()["lead"]
    assert (lead["kind"], lead["phone_e164"], lead["name"], lead["source"], lead["campaign"]) == (
        "form",
        "+380671234567",
        "Taras",
        "google",
        "brand",
    )
    assert lead["fields"] == {}  # no allowed fields named; the password is never kept
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert again.json()["lead"]["id"] == lead["id"]
    stored = db.scalars(select(Lead)).one()
    assert "never" not in str(stored.payload) and stored.payload["via"] == "api"


def test_a_bad_phone_from_a_backend_is_422_and_a_form_without_contact_makes_no_lead(
    client: TestClient, world: World, db: Session
) -> None:
    bad = client.post(leads_url(world, "/forms"), headers=world.ours.org_auth,
                      json={"phone": "12"})  # fmt: skip
    empty = client.post(leads_url(world, "/forms"), headers=world.ours.org_auth,
                        json={"fields": {"q": "flats"}})  # fmt: skip

    assert bad.status_code == 422
    assert (empty.status_code, empty.json()) == (200, {"outcome": "no_contact", "lead": None})
    assert db.scalars(select(Lead)).all() == []


def test_leads_are_listed_and_marked_by_role_and_hidden_from_others(
    client: TestClient, world: World, db: Session
) -> None:
    created = client.post(leads_url(world, "/forms"), headers=world.ours.org_auth,
                          json={"email": "a@b.co", "phone": "0671234567"})  # fmt: skip
    lead_id = created.json()["lead"]["id"]
    viewer = project_key(db, world.ours, Role.VIEWER)
    sales = project_key(db, world.ours, Role.SALES)

    listed = client.get(leads_url(world, "?kind=form"), headers=viewer)
    assert [item["id"] for item in listed.json()] == [lead_id]
    assert listed.json()[0]["phone_e164"] != "+380671234567"  # a viewer sees it masked
    assert listed.json()[0]["email"] is None
    assert client.patch(leads_url(world, f"/{lead_id}"), headers=viewer,
                        json={"is_target": True}).status_code == 403  # fmt: skip
    assert client.post(leads_url(world, "/forms"), headers=sales,
                       json={"phone": "0671234567"}).status_code == 403  # fmt: skip
    marked = client.patch(leads_url(world, f"/{lead_id}"), headers=sales, json={"is_target": True})
    assert (marked.status_code, marked.json()["is_target"]) == (200, True)
    outsider = f"/api/v1/projects/{world.outsider.project.id}/leads/{lead_id}"
    assert client.get(outsider, headers=world.outsider.org_auth).status_code == 404
    assert (
        client.get(leads_url(world, f"/{lead_id}"), headers=world.outsider.org_auth).status_code
        == 404
    )
