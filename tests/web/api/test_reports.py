"""/api/v1/reports: the list, a report as JSON, its CSV and XLSX, and the refusals."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import issue_api_key
from ringtrail.storage.models import Organization
from tests.conftest import World
from tests.services.reports.hand_fixture import HandWorld, build_hand_world

PERIOD = {"from": "2025-01-10", "to": "2025-01-11"}


@pytest.fixture
def hand(db: Session) -> HandWorld:
    return build_hand_world(db)


@pytest.fixture
def viewer(db: Session, hand: HandWorld) -> dict[str, str]:
    """A viewer's key: the least role, which may still read every report."""
    organization = db.get(Organization, hand.project.organization_id)
    assert organization is not None
    key = issue_api_key(db, organization, "viewer", Role.VIEWER, project=hand.project)
    db.commit()
    return {"Authorization": f"Bearer {key.secret}"}


def get(client: TestClient, auth: dict[str, str], path: str, **params: Any) -> Any:
    return client.get(f"/api/v1/reports{path}", params=params, headers=auth)


def test_the_list_names_every_report(
    client: TestClient, hand: HandWorld, viewer: dict[str, str]
) -> None:
    answer = get(client, viewer, "", project_id=hand.project.id)
    assert answer.status_code == 200
    ids = [item["id"] for item in answer.json()["items"]]
    assert ids[0] == "overview" and "profit" in ids and "pool_health" in ids
    assert all(item["title"] for item in answer.json()["items"])


def test_a_report_as_json(client: TestClient, hand: HandWorld, viewer: dict[str, str]) -> None:
    answer = get(client, viewer, "/campaigns", project_id=hand.project.id, **PERIOD)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == {"from": "2025-01-10", "to": "2025-01-11"}
    assert body["previous_period"] == {"from": "2025-01-08", "to": "2025-01-09"}
    calls = next(item for item in body["headlines"] if item["key"] == "calls")
    assert (calls["value"], calls["previous"], calls["change"]) == (6, 2, 2.0)
    cost = next(item for item in body["headlines"] if item["key"] == "cost")
    assert (cost["value"], cost["kind"]) == ("75.00", "money")
    table = body["tables"][0]
    assert [column["key"] for column in table["columns"]][:3] == ["source", "campaign", "calls"]
    first = table["rows"][0]
    assert first["cells"]["cost"] == "50.00"
    assert first["drill"] == {
        "from": "2025-01-10",
        "to": "2025-01-12",
        "source": "google",
        "campaign": "spring",
    }
    assert first["drill_query"] == "from=2025-01-10&to=2025-01-12&source=google&campaign=spring"
    assert table["totals"]["calls"] == 6
    assert body["charts"][0]["kind"] == "bar"


def test_filters_by_and_model_reach_the_report(
    client: TestClient, hand: HandWorld, viewer: dict[str, str]
) -> None:
    pid = hand.project.id
    google = get(client, viewer, "/keywords", project_id=pid, source="google", **PERIOD).json()
    assert google["headlines"][0]["value"] == 3
    status = get(client, viewer, "/missed", project_id=pid, status=["missed", "busy"], **PERIOD)
    assert status.json()["headlines"][1]["value"] == 2
    pages = get(client, viewer, "/sources", project_id=pid, by="landing_page", **PERIOD).json()
    assert pages["tables"][0]["rows"][1]["cells"]["value"] == "/offer"
    first = get(client, viewer, "/profit", project_id=pid, model="first", **PERIOD).json()
    revenue = {
        (row["cells"]["source"], row["cells"]["campaign"]): row["cells"]["revenue"]
        for row in first["tables"][1]["rows"]
    }
    assert revenue[("google", "winter")] == "300.00"
    overview = get(client, viewer, "/overview", project_id=pid, **PERIOD).json()
    assert overview["headlines"][0]["value"] == 6


def _json_table(client: TestClient, auth: dict[str, str], pid: int, **params: Any) -> Any:
    body = get(client, auth, "/campaigns", project_id=pid, **PERIOD, **params).json()
    return body["tables"][0]


def test_csv_and_xlsx_hold_the_rows_of_the_json_table(
    client: TestClient, hand: HandWorld, viewer: dict[str, str]
) -> None:
    pid = hand.project.id
    table = _json_table(client, viewer, pid)
    answer = get(client, viewer, "/campaigns", project_id=pid, format="csv", **PERIOD)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="ringtrail-{hand.project.slug}-campaigns-2025-01-10-2025-01-11.csv"'
    )
    lines = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert lines[0] == [column["label"] for column in table["columns"]]
    assert len(lines) == 1 + len(table["rows"]) + 1  # header, rows, totals
    keys = [column["key"] for column in table["columns"]]
    calls, cost = keys.index("calls"), keys.index("cost")
    for line, row in zip(lines[1:], table["rows"], strict=False):
        assert line[0] == (row["cells"]["source"] or "(not set)")
        assert line[calls] == str(row["cells"]["calls"])
        assert line[cost] == (row["cells"]["cost"] or "")  # no cost data: empty, never 0.00
    assert lines[-1][0] == "Total" and lines[-1][cost] == "75.00"

    answer = get(client, viewer, "/campaigns", project_id=pid, format="xlsx", **PERIOD)
    assert answer.status_code == 200
    assert "spreadsheetml" in answer.headers["content-type"]
    assert answer.headers["content-disposition"].endswith('-2025-01-10-2025-01-11.xlsx"')
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == [column["label"] for column in table["columns"]]
    assert len(values) == 1 + len(table["rows"]) + 1
    for cells, row in zip(values[1:], table["rows"], strict=False):
        assert cells[calls] == row["cells"]["calls"]
        value = row["cells"]["cost"]
        assert cells[cost] is None if value is None else Decimal(str(cells[cost])) == Decimal(value)


def test_another_table_can_be_exported_by_name(
    client: TestClient, hand: HandWorld, viewer: dict[str, str]
) -> None:
    answer = get(
        client, viewer, "/profit", project_id=hand.project.id, format="csv", table="by_campaign",
        **PERIOD,
    )  # fmt: skip
    assert answer.status_code == 200
    assert (
        f"ringtrail-{hand.project.slug}-profit-by_campaign-2025-01-10-2025-01-11.csv"
        in (answer.headers["content-disposition"])
    )
    header = next(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert header[:2] == ["Source", "Campaign"]
    unknown = get(
        client, viewer, "/profit", project_id=hand.project.id, format="csv", table="nope",
        **PERIOD,
    )  # fmt: skip
    assert unknown.status_code == 422
    assert "by_source" in unknown.text


def test_another_organisations_project_is_not_found(
    client: TestClient, world: World, hand: HandWorld
) -> None:
    answer = get(client, world.outsider.org_auth, "/overview", project_id=hand.project.id)
    assert answer.status_code == 404
    listing = get(client, world.outsider.org_auth, "", project_id=hand.project.id)
    assert listing.status_code == 404


def test_an_unknown_report_is_not_found(
    client: TestClient, hand: HandWorld, viewer: dict[str, str]
) -> None:
    answer = get(client, viewer, "/horoscope", project_id=hand.project.id)
    assert answer.status_code == 404
    assert "horoscope" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"period": "fortnight"}, "period", "unknown period"),
        ({"from": "10/01/2025"}, "from", "YYYY-MM-DD"),
        ({"from": "2025-01-11", "to": "2025-01-10"}, "from", "ends before it starts"),
        ({"by": "weather"}, "by", "unknown grouping"),
        ({"model": "u-shaped"}, "model", "attribution model"),
        ({"format": "pdf"}, "format", ""),
    ],
)
def test_a_bad_parameter_is_refused_with_a_reason(
    client: TestClient,
    hand: HandWorld,
    viewer: dict[str, str],
    params: dict[str, str],
    field: str,
    reason: str,
) -> None:
    report = "/sources" if "by" in params else "/profit"
    answer = get(client, viewer, report, project_id=hand.project.id, **params)
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem["loc"][-1] == field
    assert reason in problem["msg"]


def test_a_key_needs_to_be_sent(client: TestClient, hand: HandWorld) -> None:
    assert get(client, {}, "/overview", project_id=hand.project.id).status_code == 401
