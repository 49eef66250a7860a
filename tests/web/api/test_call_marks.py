"""/api/v1/projects/{id}/calls/{call_id}: marks, tags, comments by role; drill filters and
exports of the calls list; another organisation's project is 404."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.call_rows import add_call
from tests.conftest import World
from tests.web.api.keys import project_key


def call_url(world: World, call_id: int, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/calls/{call_id}{tail}"


def test_sales_marks_a_call_and_the_detail_shows_it(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    sales = project_key(db, world.ours, Role.SALES)
    response = client.patch(
        call_url(world, call.id), headers=sales, json={"is_target": True, "deal_value": "120.50"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["is_target"], body["target_set_by"], body["deal_value"]) == (True, "user", 120.5)
    assert [s["label"] for s in body["scores"]] == ["target"]
    # only the fields sent change; null clears
    cleared = client.patch(call_url(world, call.id), headers=sales, json={"is_target": None})
    assert (cleared.json()["is_target"], cleared.json()["deal_value"]) == (None, 120.5)
    tags = client.put(
        call_url(world, call.id, "/tags"), headers=sales, json={"tags": ["spam", " price "]}
    )
    assert tags.json() == {"tags": ["price", "spam"]}
    posted = client.post(call_url(world, call.id, "/comments"), headers=sales, json={"body": "Hi"})
    assert posted.status_code == 201
    assert posted.json()["body"] == "Hi"
    listed = client.get(call_url(world, call.id, "/comments"), headers=sales).json()
    assert [c["body"] for c in listed] == ["Hi"]
    detail = client.get(call_url(world, call.id), headers=sales).json()
    assert [c["body"] for c in detail["comments"]] == ["Hi"]
    assert detail["tags"] == ["price", "spam"]


def test_bad_marks_are_422(client: TestClient, world: World, db: Session) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    auth = world.ours.project_auth
    for method, tail, body in (
        ("PATCH", "", {"deal_value": -1}),
        ("PATCH", "", {"is_target": "perhaps"}),
        ("PATCH", "", {"colour": "red"}),
        ("PUT", "/tags", {"tags": ["x" * 101]}),
        ("PUT", "/tags", {"tags": [f"t{i}" for i in range(21)]}),
        ("POST", "/comments", {"body": ""}),
        ("POST", "/comments", {"body": "   "}),
    ):
        response = client.request(method, call_url(world, call.id, tail), headers=auth, json=body)
        assert response.status_code == 422, (tail, body, response.text)


def test_a_viewer_may_read_but_not_mark(client: TestClient, world: World, db: Session) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    viewer = project_key(db, world.ours, Role.VIEWER)
    assert (
        client.patch(call_url(world, call.id), headers=viewer, json={"is_target": True}).status_code
        == 403
    )
    assert (
        client.put(call_url(world, call.id, "/tags"), headers=viewer, json={"tags": []}).status_code
        == 403
    )
    assert (
        client.post(
            call_url(world, call.id, "/comments"), headers=viewer, json={"body": "x"}
        ).status_code
        == 403
    )
    assert client.get(call_url(world, call.id, "/comments"), headers=viewer).status_code == 200


def test_another_organisations_project_or_call_is_404(
    client: TestClient, world: World, db: Session
) -> None:
    ours = add_call(db, world.ours.project)
    theirs = add_call(db, world.outsider.project)
    db.commit()
    outsider = world.outsider.org_auth
    assert client.patch(call_url(world, ours.id), headers=outsider, json={}).status_code == 404
    assert (
        client.put(
            call_url(world, ours.id, "/tags"), headers=outsider, json={"tags": []}
        ).status_code
        == 404
    )
    assert client.get(call_url(world, ours.id, "/comments"), headers=outsider).status_code == 404
    # our key, their call under our project
    auth = world.ours.project_auth
    assert client.patch(call_url(world, theirs.id), headers=auth, json={}).status_code == 404
    assert (
        client.post(
            call_url(world, theirs.id, "/comments"), headers=auth, json={"body": "x"}
        ).status_code
        == 404
    )


def test_the_list_takes_drill_filters_and_exports_the_same_calls(
    client: TestClient, world: World, db: Session
) -> None:
    project = world.ours.project
    wanted = add_call(db, project, keyword=None, source="google", attribution_kind="static")
    add_call(db, project, keyword="flat", source="google", attribution_kind="static")
    add_call(db, project, keyword=None, source="bing", attribution_kind="session")
    db.commit()
    url = f"/api/v1/projects/{project.id}/calls"
    params: dict[str, str] = {"keyword": "", "origin": "ad", "source": "google"}
    auth = world.ours.project_auth
    page = client.get(url, headers=auth, params=params)
    assert [item["id"] for item in page.json()["items"]] == [wanted.id]
    exported = client.get(url, headers=auth, params={**params, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Call ID"
    assert [int(row[0]) for row in rows[1:]] == [wanted.id]
    workbook = client.get(url, headers=auth, params={**params, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    assert [row[0] for row in list(sheet.iter_rows(values_only=True))[1:]] == [wanted.id]
    bad = client.get(url, headers=auth, params={"hour_of_week": "8-01", "format": "csv"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][:2] == ["query", "hour_of_week"]
