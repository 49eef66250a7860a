"""/p/{id}/money: costs and deals CSV uploads, the attribution model, who may open it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.storage.models import AdCost, Deal, Project
from tests.call_rows import add_call
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in


def money_url(world: World, tail: str = "") -> str:
    return f"/p/{world.ours.project.id}/money{tail}"


def member(db: Session, world: World, role: Role) -> str:
    """A new member of our project with `role`; their e-mail."""
    email = f"{role.value}@acme-realty.example"
    user = create_user(db, email, PASSWORD, name=f"{role.value.title()} person")
    set_membership(db, user, world.ours.project, role)
    db.commit()
    return email


def recent_day() -> date:
    """A local day well inside the page's last 30 days."""
    return (datetime.now(UTC).astimezone(ZoneInfo("Europe/Kyiv")) - timedelta(days=5)).date()


def upload(client: TestClient, world: World, kind: str, text: str) -> Response:
    token = csrf_of(client.get(money_url(world)).text)
    response: Response = client.post(
        money_url(world, f"/{kind}"),
        data={"csrf_token": token},
        files={"file": (f"{kind}.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )
    return response


def test_uploading_a_costs_csv_shows_the_costs(client: TestClient, world: World) -> None:
    log_in(client)
    day = recent_day().strftime("%d.%m.%Y")
    text = f"\ufeffDate;Source;Campaign;Cost\n{day};google;brand;1 234,50\n{day};meta;spring;10\n"
    response = upload(client, world, "costs", text)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "The costs were imported: 2 rows; 0 earlier days replaced." in page.text
    assert "brand" in page.text
    assert "1,234.50" in page.text
    again = client.get(upload(client, world, "costs", text).headers["location"])
    assert "2 rows; 2 earlier days replaced." in again.text


def test_a_bad_costs_file_is_refused_with_its_line(
    client: TestClient, world: World, db: Session
) -> None:
    log_in(client)
    response = upload(client, world, "costs", "date,source,cost\n2025-03-01,google,lots\n")
    assert response.status_code == 400
    assert "nothing was changed" in response.text
    assert "line 2, column cost" in response.text
    assert db.scalar(select(func.count()).select_from(AdCost)) == 0


def test_an_upload_without_a_file_asks_for_one(client: TestClient, world: World) -> None:
    log_in(client)
    token = csrf_of(client.get(money_url(world)).text)
    response = client.post(
        money_url(world, "/costs"),
        data={"csrf_token": token},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.text


def test_uploading_deals_links_them(client: TestClient, world: World, db: Session) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    log_in(client)
    text = f"deal_id,call_id,status,revenue\nCRM-1,{call.id},won,500\nCRM-2,,open,\n"
    assert upload(client, world, "deals", text).status_code == 400
    text = (
        "deal_id,call_id,phone,status,revenue\n"
        f"CRM-1,{call.id},,won,500\nCRM-2,,+380931234567,open,\n"
    )
    response = upload(client, world, "deals", text)
    page = client.get(response.headers["location"])
    assert "The deals were imported: 2 new, 0 updated, 1 unlinked." in page.text
    assert "CRM-1" in page.text
    assert f"Call {call.id}" in page.text
    assert db.scalar(select(func.count()).select_from(Deal)) == 2


def test_the_attribution_model_can_be_switched(
    client: TestClient, world: World, db: Session
) -> None:
    log_in(client)
    token = csrf_of(client.get(money_url(world)).text)
    response = client.post(
        money_url(world, "/model"),
        data={"csrf_token": token, "attribution_model": "first"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "The attribution model was changed" in page.text
    assert '<option value="first" selected>' in page.text
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None and project.attribution_model == "first"
    bad = client.post(
        money_url(world, "/model"), data={"csrf_token": token, "attribution_model": "u-shaped"}
    )
    assert bad.status_code == 400


def test_forms_need_the_csrf_token(client: TestClient, world: World) -> None:
    log_in(client)
    response = client.post(money_url(world, "/model"), data={"attribution_model": "first"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_sales_and_viewers_may_not_open_the_page(
    client: TestClient, world: World, db: Session, role: Role
) -> None:
    log_in(client, email=member(db, world, role))
    assert client.get(money_url(world)).status_code == 403
    token = csrf_of(client.get(f"/p/{world.ours.project.id}").text)
    response = client.post(
        money_url(world, "/costs"),
        data={"csrf_token": token},
        files={"file": ("c.csv", b"date,source,cost\n2025-03-01,google,1\n", "text/csv")},
    )
    assert response.status_code == 403
    assert "/money" not in client.get(f"/p/{world.ours.project.id}").text


def test_a_marketer_may_open_the_page(client: TestClient, world: World, db: Session) -> None:
    log_in(client, email=member(db, world, Role.MARKETER))
    assert client.get(money_url(world)).status_code == 200


def test_another_tenants_money_page_does_not_exist(client: TestClient, world: World) -> None:
    log_in(client)
    assert client.get(f"/p/{world.outsider.project.id}/money").status_code == 404
