"""The calls log pages: filters and drill-downs, one call with its player and marking forms,
roles (a viewer sees no forms and may not post), exports holding the page's rows, isolation."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.storage.models import Call, CallComment, Recording
from tests.call_rows import T0, add_call, tag_call
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in

_CALL_LINK = re.compile(r'href="/p/\d+/calls/(\d+)[?"]')


def calls_url(world: World, tail: str = "") -> str:
    return f"/p/{world.ours.project.id}/calls{tail}"


def listed(client: TestClient, world: World, query: str = "") -> list[int]:
    response = client.get(calls_url(world) + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    return [int(found) for found in _CALL_LINK.findall(response.text)]


def member(db: Session, world: World, role: Role) -> str:
    """A new member of our project with `role`; their e-mail."""
    email = f"{role.value}@acme-realty.example"
    user = create_user(db, email, PASSWORD, name=f"{role.value.title()} person")
    set_membership(db, user, world.ours.project, role)
    db.commit()
    return email


def some_calls(db: Session, world: World) -> list[Call]:
    project = world.ours.project
    calls = [
        add_call(db, project, source="google", campaign="spring", keyword="flat to rent"),
        add_call(db, project, started_at=T0 + timedelta(hours=1), source="facebook"),
        add_call(db, project, started_at=T0 + timedelta(hours=2), status="missed", talk_seconds=0),
        add_call(
            db,
            project,
            started_at=T0 + timedelta(days=1),
            source="google",
            keyword=None,
            caller_region="Kyiv",
            attribution_kind="static",
            snapshot={"visitor_geo": {"region": "Lviv"}},
        ),
    ]
    tag_call(db, calls[1], "price")
    add_call(db, world.outsider.project, source="google")
    db.commit()
    return calls


def test_the_log_lists_the_projects_calls_newest_first(
    client: TestClient, world: World, db: Session
) -> None:
    calls = some_calls(db, world)
    log_in(client)
    page = client.get(calls_url(world))
    assert page.status_code == 200
    assert [int(found) for found in _CALL_LINK.findall(page.text)] == [
        c.id for c in reversed(calls)
    ]
    assert 'aria-current="page">Calls<' in page.text
    assert 'data-label="Caller"' in page.text


def test_form_filters_and_drill_keys_narrow_the_list(
    client: TestClient, world: World, db: Session
) -> None:
    calls = some_calls(db, world)
    log_in(client)
    # The form sends every field; empty ones mean "any".
    form = "form=1&search=&from=&to=&source=google&campaign=&tag=&status=&first_time=&target="
    assert listed(client, world, form) == [calls[3].id, calls[0].id]
    assert listed(client, world, "status=missed") == [calls[2].id]
    assert listed(client, world, "tag=price") == [calls[1].id]
    assert listed(client, world, "search=flat") == [calls[0].id]
    # Drill-down keys; an empty value is "(not set)".
    assert listed(client, world, "keyword=flat+to+rent") == [calls[0].id]
    assert listed(client, world, "source=google&keyword=") == [calls[3].id]
    assert listed(client, world, "caller_region=Kyiv") == [calls[3].id]
    assert listed(client, world, "visitor_region=Lviv") == [calls[3].id]
    assert listed(client, world, "origin=ad") == [calls[3].id]
    assert listed(client, world, "duration=not_answered") == [calls[2].id]
    assert listed(client, world, "from=2025-03-01&to=2025-03-02") == [c.id for c in calls[2::-1]]
    # 2025-03-01 10:00 UTC is a Saturday, 12:00 in Kyiv
    assert listed(client, world, "hour_of_week=5-12") == [calls[0].id]


def test_drill_filters_show_as_removable_chips_and_travel_with_the_form(
    client: TestClient, world: World, db: Session
) -> None:
    some_calls(db, world)
    log_in(client)
    page = client.get(calls_url(world, "?source=&keyword=flat+to+rent&hour_of_week=0-09")).text
    assert 'class="chip"' in page
    assert "(not set)" in page
    assert "Monday, 09:00" in page
    remove_keyword = f'href="{calls_url(world)}?source=&amp;hour_of_week=0-09"'
    assert remove_keyword in page
    assert '<input type="hidden" name="keep" value="keyword">' in page
    assert '<input type="hidden" name="keyword" value="flat to rent">' in page


def test_an_unreadable_filter_is_explained_not_listed_empty(
    client: TestClient, world: World, db: Session
) -> None:
    some_calls(db, world)
    log_in(client)
    for query in ("origin=moon", "hour_of_week=9-99", "target=maybe", "from=yesterday"):
        response = client.get(calls_url(world, f"?{query}"))
        assert response.status_code == 400, query
        assert 'role="alert"' in response.text


def test_next_page_links_continue_where_the_page_ended(
    client: TestClient, world: World, db: Session
) -> None:
    for i in range(55):
        add_call(db, world.ours.project, started_at=T0 + timedelta(minutes=i), source="google")
    db.commit()
    log_in(client)
    first = client.get(calls_url(world, "?source=google")).text
    match = re.search(r'href="(/p/\d+/calls\?[^"]+)" rel="next"', first)
    assert match
    second = client.get(match.group(1).replace("&amp;", "&")).text
    ids = _CALL_LINK.findall(first) + _CALL_LINK.findall(second)
    assert len(ids) == len(set(ids)) == 55
    assert 'rel="next"' not in second


def test_a_call_page_shows_the_trace_and_a_player_with_a_signed_link(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(
        db,
        world.ours.project,
        source="google",
        attribution_reason="the caller held the pool number when calling",
        candidates=[{"visit_id": 7, "share": 0.9, "source": "google", "phase": "live"}],
    )
    db.add(
        Recording(
            call_id=call.id, status="stored", storage_key="k/1.mp3", content_type="audio/mpeg"
        )
    )
    db.commit()
    log_in(client)
    page = client.get(calls_url(world, f"/{call.id}")).text
    assert "the caller held the pool number when calling" in page
    player = re.search(r'<audio controls preload="none" src="(/recordings/[^"]+)"', page)
    assert player, page
    # the link is the signed recording route (its file is not in this test's store: 404, not 403)
    assert client.get(player.group(1)).status_code == 404


def test_a_sales_user_marks_target_tags_comments_and_deal_value(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    log_in(client, email=member(db, world, Role.SALES))
    path = calls_url(world, f"/{call.id}")
    page = client.get(path).text
    assert "Settings" not in page
    token = csrf_of(page)
    for tail, data in (
        ("/target", {"target": "true", "list_query": "source=google"}),
        ("/tags", {"tags": "price, spam , price"}),
        ("/comments", {"body": "Asked for a viewing"}),
        ("/deal", {"deal_value": "1 250,50"}),
    ):
        response = client.post(
            f"{path}{tail}", data={**data, "csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303, (tail, response.text)
    db.expire_all()
    stored = db.get(Call, call.id)
    assert stored is not None
    assert (stored.is_target, stored.target_set_by, stored.deal_value) == (True, "user", 1250.5)
    page = client.get(path).text
    assert "Asked for a viewing" in page
    assert "Sales person" in page
    assert listed(client, world, "target=true&tag=spam") == [call.id]


def test_marking_redirects_back_to_the_call_with_the_list_filters(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    log_in(client)
    path = calls_url(world, f"/{call.id}")
    token = csrf_of(client.get(path).text)
    response = client.post(
        f"{path}/target",
        data={"target": "false", "list_query": "keyword=&bogus=1", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.headers["location"] == f"{path}?keyword="


def test_a_bad_form_value_is_explained_and_nothing_is_stored(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    log_in(client)
    path = calls_url(world, f"/{call.id}")
    token = csrf_of(client.get(path).text)
    for tail, data in (
        ("/deal", {"deal_value": "-5"}),
        ("/comments", {"body": "   "}),
        ("/tags", {"tags": "x" * 101}),
    ):
        response = client.post(f"{path}{tail}", data={**data, "csrf_token": token})
        assert response.status_code == 400, tail
        assert 'role="alert"' in response.text
    db.expire_all()
    assert db.query(CallComment).count() == 0


def test_a_viewer_sees_no_forms_and_may_not_post(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    log_in(client, email=member(db, world, Role.VIEWER))
    path = calls_url(world, f"/{call.id}")
    page = client.get(path)
    assert page.status_code == 200
    assert f'action="{path}/target"' not in page.text
    assert 'name="body"' not in page.text
    token = csrf_of(page.text)
    for tail, data in (
        ("/target", {"target": "true"}),
        ("/tags", {"tags": "spam"}),
        ("/comments", {"body": "hello"}),
        ("/deal", {"deal_value": "10"}),
    ):
        response = client.post(f"{path}{tail}", data={**data, "csrf_token": token})
        assert response.status_code == 403, tail
    db.expire_all()
    stored = db.get(Call, call.id)
    assert stored is not None and stored.is_target is None


def test_csv_and_xlsx_hold_the_same_calls_as_the_page(
    client: TestClient, world: World, db: Session
) -> None:
    some_calls(db, world)
    log_in(client)
    query = "source=google&first_time=true"
    shown = listed(client, world, query)
    assert shown
    response = client.get(calls_url(world, f".csv?{query}"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Call ID", "Started", "Status"]
    assert [int(row[0]) for row in rows[1:]] == shown
    # Started is written in the project's time zone (Kyiv is UTC+2 in March)
    assert rows[-1][1] == "2025-03-01 12:00:00"
    workbook = load_workbook(io.BytesIO(client.get(calls_url(world, f".xlsx?{query}")).content))
    sheet = workbook.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in values[1:]] == shown


def test_another_projects_calls_do_not_exist_for_us(
    client: TestClient, world: World, db: Session
) -> None:
    theirs = add_call(db, world.outsider.project)
    ours = add_call(db, world.ours.project)
    db.commit()
    log_in(client)
    their_project = world.outsider.project.id
    for path in (
        f"/p/{their_project}/calls",
        f"/p/{their_project}/calls.csv",
        f"/p/{their_project}/calls/{theirs.id}",
        calls_url(world, f"/{theirs.id}"),
        calls_url(world, "/999999"),
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_of(client.get(calls_url(world, f"/{ours.id}")).text)
    response = client.post(
        calls_url(world, f"/{theirs.id}/target"), data={"target": "true", "csrf_token": token}
    )
    assert response.status_code == 404
    db.expire_all()
    stored = db.get(Call, theirs.id)
    assert stored is not None and stored.is_target is None
