"""/api/v1/projects/{id}/costs and /deals: JSON and CSV in, replace and upsert, roles, isolation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.storage.models import AdCost, Deal
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.money.fixture import build_fixture
from tests.web.api.keys import project_key

COSTS = [
    {"date": "2025-03-01", "source": "google", "campaign": "brand", "cost": "100.50"},
    {"date": "2025-03-01", "source": "facebook", "campaign": "spring", "cost": 50, "clicks": 7},
]


def url(world: World, tail: str) -> str:
    return f"/api/v1/projects/{world.ours.project.id}/{tail}"


def cost_rows(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AdCost)) or 0


def test_costs_put_twice_replace_and_read_back(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    first = client.put(url(world, "costs"), json=COSTS, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json() == {"rows": 2, "days_replaced": 0}
    again = client.put(url(world, "costs"), json=COSTS, headers=auth)
    assert again.json() == {"rows": 2, "days_replaced": 2}
    listed = client.get(
        url(world, "costs"), params={"from": "2025-03-01", "to": "2025-03-01"}, headers=auth
    )
    assert listed.status_code == 200
    assert [(r["source"], r["cost"], r["currency"]) for r in listed.json()] == [
        ("facebook", "50.00", "UAH"),
        ("google", "100.50", "UAH"),
    ]


def test_costs_csv_with_semicolons_and_decimal_commas(client: TestClient, world: World) -> None:
    body = "\ufeffdate;source;campaign;cost\n01.03.2025;google;brand;12,50\n".encode()
    response = client.post(
        url(world, "costs/csv"),
        content=body,
        headers={**world.ours.project_auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 1
    listed = client.get(
        url(world, "costs"), params={"from": "2025-03-01"}, headers=world.ours.project_auth
    )
    assert [r["cost"] for r in listed.json()] == ["12.50"]


def test_a_bad_row_names_itself_and_writes_nothing(
    client: TestClient, world: World, db: Session
) -> None:
    rows = [*COSTS, {"date": "2025-03-02", "source": "bing", "cost": 1, "currency": "EUR"}]
    response = client.put(url(world, "costs"), json=rows, headers=world.ours.project_auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "row 3, column currency"]
    bad_csv = "date,source,cost\n2025-03-01,google,1\n2025-03-01,google,lots\n"
    response = client.post(
        url(world, "costs/csv"),
        content=bad_csv,
        headers={**world.ours.project_auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "line 3, column cost"]
    assert cost_rows(db) == 0


def test_deals_put_links_and_upserts(client: TestClient, world: World, db: Session) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    auth = world.ours.project_auth
    deals: list[dict[str, Any]] = [
        {"deal_id": "D-1", "call_id": call.id, "status": "won", "revenue": "1500"},
        {"deal_id": "D-2", "phone": "+380931234567", "status": "open"},
    ]
    response = client.put(url(world, "deals"), json=deals, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0, "linked": 1, "unlinked": ["D-2"]}
    csv_body = "deal_id,status,revenue\nD-2,lost,0\n"
    response = client.post(
        url(world, "deals/csv"), content=csv_body, headers={**auth, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422  # a deal needs a call id or a phone
    csv_body = "deal_id,phone,status,revenue\nD-2,+380931234567,lost,0\n"
    response = client.post(
        url(world, "deals/csv"), content=csv_body, headers={**auth, "Content-Type": "text/csv"}
    )
    assert response.json()["updated"] == 1
    listed = client.get(url(world, "deals"), headers=auth).json()
    assert {d["deal_id"]: (d["status"], d["call_id"]) for d in listed} == {
        "D-1": ("won", call.id),
        "D-2": ("lost", None),
    }
    won = client.get(url(world, "deals"), params={"status": "won"}, headers=auth).json()
    assert [d["revenue"] for d in won] == ["1500.00"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SALES])
def test_viewers_and_sales_may_read_but_not_write(
    client: TestClient, world: World, db: Session, role: Role
) -> None:
    auth = project_key(db, world.ours, role)
    assert client.put(url(world, "costs"), json=COSTS, headers=auth).status_code == 403
    csv_headers = {**auth, "Content-Type": "text/csv"}
    assert client.post(url(world, "costs/csv"), content="x", headers=csv_headers).status_code == 403
    deal = [{"deal_id": "D-1", "phone": "+380931234567"}]
    assert client.put(url(world, "deals"), json=deal, headers=auth).status_code == 403
    assert client.post(url(world, "deals/csv"), content="x", headers=csv_headers).status_code == 403
    assert client.get(url(world, "costs"), headers=auth).status_code == 200
    assert client.get(url(world, "deals"), headers=auth).status_code == 200
    assert cost_rows(db) == 0
    assert db.scalar(select(func.count()).select_from(Deal)) == 0


def test_a_marketer_may_import_costs(client: TestClient, world: World, db: Session) -> None:
    auth = project_key(db, world.ours, Role.MARKETER)
    assert client.put(url(world, "costs"), json=COSTS, headers=auth).status_code == 200


def test_another_organisations_project_is_not_found(client: TestClient, world: World) -> None:
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.put(url(world, "costs"), json=COSTS, headers=auth).status_code == 404
        assert client.get(url(world, "costs"), headers=auth).status_code == 404
        assert client.get(url(world, "deals"), headers=auth).status_code == 404
        response = client.post(
            url(world, "deals/csv"),
            content="deal_id,status\n",
            headers={**auth, "Content-Type": "text/csv"},
        )
        assert response.status_code == 404


def test_the_attribution_model_is_a_project_setting(client: TestClient, world: World) -> None:
    project_url = f"/api/v1/projects/{world.ours.project.id}"
    auth = world.ours.project_auth
    assert client.get(project_url, headers=auth).json()["attribution_model"] == "last_non_direct"
    response = client.patch(project_url, json={"attribution_model": "linear"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["attribution_model"] == "linear"
    response = client.patch(project_url, json={"attribution_model": "u-shaped"}, headers=auth)
    assert response.status_code == 422


def profit_revenue_by_source(client: TestClient, world: World) -> dict[str, str]:
    response = client.get(
        "/api/v1/reports/profit",
        params={"project_id": world.ours.project.id, "from": "2025-03-01", "to": "2025-03-01"},
        headers=world.ours.project_auth,
    )
    assert response.status_code == 200, response.text
    [table] = [t for t in response.json()["tables"] if t["key"] == "by_source"]
    return {row["cells"]["source"]: row["cells"]["revenue"] for row in table["rows"]}


def test_switching_the_model_changes_the_profit_reports_revenue(
    client: TestClient, world: World, db: Session
) -> None:
    build_fixture(db, world.ours.project)
    db.commit()
    before = profit_revenue_by_source(client, world)
    assert Decimal(before["google"]) == Decimal("90")
    assert Decimal(before["facebook"]) == Decimal("420")
    response = client.patch(
        f"/api/v1/projects/{world.ours.project.id}",
        json={"attribution_model": "first"},
        headers=world.ours.project_auth,
    )
    assert response.status_code == 200
    after = profit_revenue_by_source(client, world)
    assert Decimal(after["google"]) == Decimal("390")
    assert Decimal(after["facebook"]) == Decimal("120")
