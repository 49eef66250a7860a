"""/api/v1/projects/{id}/calls: filters as query parameters, pages, one call's trace, isolation."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.call_rows import (
    T0,
    add_call,
    add_event,
    add_recording,
    add_stored_recording,
    add_visit,
    tag_call,
)
from tests.conftest import World
from tests.web.api.keys import project_key

KYIV = ZoneInfo("Europe/Kyiv")


def calls_url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/calls{tail}"


def listed(client: TestClient, world: World, params: Any = None) -> list[int]:
    response = client.get(calls_url(world), headers=world.ours.project_auth, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_listing_calls_needs_a_key(client: TestClient, world: World) -> None:
    assert client.get(calls_url(world)).status_code == 401
    assert client.get(calls_url(world, "/1")).status_code == 401


@pytest.mark.parametrize("role", list(Role))
def test_every_member_role_may_view_calls(
    client: TestClient, world: World, db: Session, role: Role
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    auth = project_key(db, world.ours, role)
    assert [c["id"] for c in client.get(calls_url(world), headers=auth).json()["items"]] == [
        call.id
    ]
    assert client.get(calls_url(world, f"/{call.id}"), headers=auth).status_code == 200


def test_the_outsider_never_sees_our_calls(client: TestClient, world: World, db: Session) -> None:
    ours = add_call(db, world.ours.project)
    theirs = add_call(db, world.outsider.project)
    db.commit()
    their_calls = f"/api/v1/projects/{world.outsider.project.id}/calls"
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(calls_url(world), headers=auth).status_code == 404
        assert client.get(calls_url(world, f"/{ours.id}"), headers=auth).status_code == 404
        assert client.get(f"{their_calls}/{ours.id}", headers=auth).status_code == 404
        items = client.get(their_calls, headers=auth).json()["items"]
        assert [c["id"] for c in items] == [theirs.id]
    assert listed(client, world) == [ours.id]


def test_a_list_item_carries_the_summary_fields(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(
        db,
        world.ours.project,
        source="google",
        medium="cpc",
        campaign="spring",
        keyword="flat to rent",
        landing_page="https://acme-realty.example/offer",
        attribution_kind="pool",
        confidence=0.75,
        caller_country="UA",
        caller_region="Kyiv",
    )
    tag_call(db, call, "price")
    add_recording(db, call)
    db.commit()
    item = client.get(calls_url(world), headers=world.ours.project_auth).json()["items"][0]
    assert set(item) == {
        "id", "started_at", "answered_at", "ended_at", "duration_seconds", "talk_seconds",
        "status", "caller", "dialled", "tracking_number_id", "is_first_time", "is_unique",
        "is_target", "needs_callback", "source", "medium", "campaign", "keyword",
        "landing_page", "attribution_kind", "confidence", "caller_country", "caller_region",
        "tags", "has_recording", "analytics_ids",
    }  # fmt: skip
    assert (item["caller"], item["dialled"]) == ("+380671234567", "+380441234567")
    assert (item["source"], item["keyword"], item["confidence"]) == ("google", "flat to rent", 0.75)
    assert (item["tags"], item["has_recording"], item["status"]) == (["price"], True, "answered")
    assert datetime.fromisoformat(item["started_at"]) == T0


def test_each_filter_works_as_a_query_parameter(
    client: TestClient, world: World, db: Session
) -> None:
    project = world.ours.project
    first = add_call(db, project, source="google", medium="cpc", campaign="spring")
    second = add_call(
        db,
        project,
        started_at=T0 + timedelta(hours=1),
        status="missed",
        needs_callback=True,
        is_first_time=False,
        is_unique=False,
        is_target=False,
        caller_e164="+380501112233",
        dialled_e164="+380441234568",
    )
    third = add_call(db, project, started_at=T0 + timedelta(hours=2), status="busy", is_target=True)
    tag_call(db, first, "price")
    tag_call(db, third, "spam")
    db.commit()
    cases: list[tuple[Any, list[int]]] = [
        ({}, [third.id, second.id, first.id]),
        ({"source": "google"}, [first.id]),
        ({"medium": "cpc"}, [first.id]),
        ({"campaign": "spring"}, [first.id]),
        ({"campaign": "autumn"}, []),
        ([("status", "missed"), ("status", "busy")], [third.id, second.id]),
        ({"status": "answered"}, [first.id]),
        ({"first_time": "false"}, [second.id]),
        ({"first_time": "true"}, [third.id, first.id]),
        ({"unique": "0"}, [second.id]),
        ({"target": "true"}, [third.id]),
        ({"target": "false"}, [second.id]),
        ({"needs_callback": "yes"}, [second.id]),
        ([("tag", "price"), ("tag", "spam")], [third.id, first.id]),
        ({"tag": "spam"}, [third.id]),
        ({"number": "(044) 123-45-68"}, [second.id]),
        ({"number": "+380441234567"}, [third.id, first.id]),
        ({"caller": "050 111 22 33"}, [second.id]),
        ({"caller": "+38 (050) 111-22-33"}, [second.id]),
        ({"from": "2025-03-01T10:30:00Z"}, [third.id, second.id]),
        ({"to": "2025-03-01T11:00:00Z"}, [first.id]),
        ({"from": "2025-03-01T12:00:00+02:00", "to": "2025-03-01T13:00:00+02:00"}, [first.id]),
    ]
    for params, expected in cases:
        assert listed(client, world, params) == expected, params


def test_a_call_at_23_30_kyiv_time_is_in_that_kyiv_day(
    client: TestClient, world: World, db: Session
) -> None:
    project = world.ours.project
    late = add_call(db, project, started_at=datetime(2025, 3, 1, 23, 30, tzinfo=KYIV))
    next_day = add_call(db, project, started_at=datetime(2025, 3, 2, 0, 0, tzinfo=KYIV))
    add_call(db, project, started_at=datetime(2025, 2, 28, 23, 59, 59, tzinfo=KYIV))
    db.commit()
    assert listed(client, world, {"from": "2025-03-01", "to": "2025-03-02"}) == [late.id]
    assert listed(client, world, {"from": "2025-03-02", "to": "2025-03-03"}) == [next_day.id]
    # a datetime without an offset is the project's wall-clock time too
    assert listed(client, world, {"from": "2025-03-01T23:30", "to": "2025-03-01T23:31"}) == [
        late.id
    ]


def test_paging_through_120_calls_gives_each_once_without_gaps(
    client: TestClient, world: World, db: Session
) -> None:
    project = world.ours.project
    stored = [add_call(db, project, started_at=T0 + timedelta(minutes=i // 4)) for i in range(120)]
    db.commit()
    ids: list[int] = []
    sizes: list[int] = []
    params: dict[str, Any] = {}
    while True:
        body = client.get(calls_url(world), headers=world.ours.project_auth, params=params).json()
        ids.extend(item["id"] for item in body["items"])
        sizes.append(len(body["items"]))
        if body["next_cursor"] is None:
            break
        params = {"cursor": body["next_cursor"]}
    assert sizes == [50, 50, 20]
    newest_first = sorted(stored, key=lambda c: (c.started_at, c.id), reverse=True)
    assert ids == [c.id for c in newest_first]
    limited = client.get(calls_url(world), headers=world.ours.project_auth, params={"limit": 500})
    assert len(limited.json()["items"]) == 120
    assert limited.json()["next_cursor"] is None


def test_a_cursor_keeps_the_filters_of_the_request_it_is_sent_with(
    client: TestClient, world: World, db: Session
) -> None:
    project = world.ours.project
    google = [
        add_call(db, project, source="google", started_at=T0 + timedelta(minutes=i))
        for i in range(3)
    ]
    add_call(db, project, source="bing", started_at=T0 + timedelta(seconds=90))
    db.commit()
    auth = world.ours.project_auth
    first = client.get(calls_url(world), headers=auth, params={"source": "google", "limit": 2})
    cursor = first.json()["next_cursor"]
    rest = client.get(calls_url(world), headers=auth, params={"source": "google", "cursor": cursor})
    assert [c["id"] for c in rest.json()["items"]] == [google[0].id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2025-02-30"}, "from"),
        ({"to": "2025-03-01T25:00"}, "to"),
        ({"to": "x" * 41}, "to"),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "to"),
        ({"status": "ringing"}, "status"),
        ({"first_time": "maybe"}, "first_time"),
        ({"unique": "2"}, "unique"),
        ({"target": ""}, "target"),
        ({"needs_callback": "sometimes"}, "needs_callback"),
        ({"caller": "12345"}, "caller"),
        ({"caller": ""}, "caller"),
        ({"number": "not a phone"}, "number"),
        ({"source": "a\x00b"}, "source"),
        ({"medium": "x" * 101}, "medium"),
        ({"tag": "a\x00b"}, "tag"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x" * 201}, "cursor"),
    ],
)
def test_a_bad_filter_value_is_a_422_naming_it(
    client: TestClient, world: World, params: dict[str, str], field: str
) -> None:
    response = client.get(calls_url(world), headers=world.ours.project_auth, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["query", field]


def test_one_call_shows_its_attribution_trace_and_events(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(
        db,
        world.ours.project,
        attribution_kind="pool",
        attribution_reason="the caller held the pool number when calling",
        confidence=0.9,
        candidates=[{"visit_id": 2, "score": 0.9}, {"visit_id": 1, "score": 0.1}],
        snapshot={"utm_source": "google", "gclid": "abc"},
        first_call_id=None,
        forwarded_to="+380671112233",
        provider_call_id="CA-trace",
    )
    add_event(db, call, "ended", T0 + timedelta(seconds=65))
    add_event(db, call, "started", T0)
    db.commit()
    response = client.get(calls_url(world, f"/{call.id}"), headers=world.ours.project_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["attribution_reason"] == "the caller held the pool number when calling"
    assert body["candidates"] == [{"visit_id": 2, "score": 0.9}, {"visit_id": 1, "score": 0.1}]
    assert body["snapshot"] == {"utm_source": "google", "gclid": "abc"}
    assert (body["provider"], body["provider_call_id"]) == ("twilio", "CA-trace")
    assert body["forwarded_to"] == "+380671112233"
    assert [(e["type"], e["provider"]) for e in body["events"]] == [
        ("started", "twilio"),
        ("ended", "twilio"),
    ]
    for key in ("visitor_id", "visit_id", "first_call_id", "lead_id", "tags", "has_recording"):
        assert key in body
    assert (
        client.get(calls_url(world, "/999999"), headers=world.ours.project_auth).status_code == 404
    )
    assert client.get(calls_url(world, "/0"), headers=world.ours.project_auth).status_code == 422


def test_the_calls_endpoints_are_documented_and_need_the_bearer_key(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    reference = (Path(__file__).parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    for path in (
        "/api/v1/projects/{project_id}/calls",
        "/api/v1/projects/{project_id}/calls/{call_id}",
    ):
        assert paths[path]["get"]["security"] == [{"HTTPBearer": []}]
        assert f"`GET {path}`" in reference


def test_the_list_and_its_export_carry_the_visits_click_and_analytics_ids(
    client: TestClient, world: World, db: Session
) -> None:
    ids = {"gclid": "Cj0-api-gclid", "wbraid": "wb-1", "ga_client_id": "111.222", "ym_uid": "99"}
    visit = add_visit(db, world.ours.project, **ids)
    call = add_call(db, world.ours.project, visit_id=visit.id, visitor_id=visit.visitor_id)
    bare = add_call(db, world.ours.project, started_at=T0 - timedelta(hours=1))
    add_stored_recording(db, call)
    db.commit()
    items = client.get(calls_url(world), headers=world.ours.project_auth).json()["items"]
    by_id = {item["id"]: item for item in items}
    assert by_id[call.id]["analytics_ids"] == ids
    assert by_id[bare.id]["analytics_ids"] == {}
    assert (
        client.get(calls_url(world, f"/{call.id}"), headers=world.ours.project_auth).json()[
            "analytics_ids"
        ]
        == ids
    )
    response = client.get(
        calls_url(world), headers=world.ours.project_auth, params={"format": "csv"}
    )
    slug = world.ours.project.slug
    assert f'filename="calls-{slug}-start-now.csv"' in response.headers["content-disposition"]
    rows = {
        int(row["Call ID"]): row
        for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    }
    assert rows[call.id]["gclid"] == "Cj0-api-gclid" and rows[call.id]["_ym_uid"] == "99"
    assert rows[call.id]["GA client ID"] == "111.222"
    link = urlsplit(rows[call.id]["Recording"])
    assert link.scheme == "http" and link.path.startswith("/recordings/")
    assert client.get(link.path).status_code == 404  # signed, accepted; no audio in this store
    assert rows[bare.id]["Recording"] == "false"
