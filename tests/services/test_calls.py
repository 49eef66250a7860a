"""Reading calls: every filter against a plain-Python reference, keyset pages, cursors, trace."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.calls import (
    CallFilters,
    Position,
    decode_cursor,
    encode_cursor,
    get_call,
    list_calls,
    read_moment,
)
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import Call
from tests.call_rows import T0, add_call, add_event, add_recording, tag_call
from tests.conftest import World

KYIV = ZoneInfo("Europe/Kyiv")


def all_ids(db: Session, world: World, filters: CallFilters, limit: int = 500) -> list[int]:
    """Every matching call id, following cursors to the end."""
    ids: list[int] = []
    cursor = None
    while True:
        page = list_calls(db, world.ours.project, filters, cursor=cursor, limit=limit)
        ids.extend(item.id for item in page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def varied_calls(db: Session, world: World) -> list[Call]:
    """Calls that differ in every filtered field, two hours apart."""
    project = world.ours.project
    rows: list[dict[str, Any]] = [
        {"source": "google", "medium": "cpc", "campaign": "spring", "is_target": True},
        {"source": "google", "medium": "organic", "status": "missed", "needs_callback": True},
        {"source": "facebook", "medium": "cpc", "campaign": "spring", "is_first_time": False},
        {"status": "busy", "is_unique": False, "caller_e164": "+380501112233"},
        {"status": "abandoned", "is_target": False, "dialled_e164": "+380441234568"},
        {"caller_e164": None, "is_first_time": None, "is_unique": None, "status": "in_progress"},
    ]
    calls = [
        add_call(db, project, started_at=T0 + timedelta(hours=2 * i), **row)
        for i, row in enumerate(rows)
    ]
    tag_call(db, calls[0], "price")
    tag_call(db, calls[1], "price", "spam")
    tag_call(db, calls[2], "rent")
    add_call(db, world.outsider.project, source="google", started_at=T0)
    db.commit()
    return calls


FILTERS: list[tuple[dict[str, Any], Callable[[Call, set[str]], bool]]] = [
    ({}, lambda c, t: True),
    ({"source": "google"}, lambda c, t: c.source == "google"),
    ({"medium": "cpc"}, lambda c, t: c.medium == "cpc"),
    ({"campaign": "spring"}, lambda c, t: c.campaign == "spring"),
    ({"statuses": ["missed", "busy"]}, lambda c, t: c.status in {"missed", "busy"}),
    ({"first_time": True}, lambda c, t: c.is_first_time is True),
    ({"first_time": False}, lambda c, t: c.is_first_time is False),
    ({"unique": False}, lambda c, t: c.is_unique is False),
    ({"target": True}, lambda c, t: c.is_target is True),
    ({"target": False}, lambda c, t: c.is_target is False),
    ({"needs_callback": True}, lambda c, t: c.needs_callback),
    ({"needs_callback": False}, lambda c, t: not c.needs_callback),
    ({"tags": ["price"]}, lambda c, t: "price" in t),
    ({"tags": ["spam", "rent"]}, lambda c, t: bool(t & {"spam", "rent"})),
    ({"tags": ["no such tag"]}, lambda c, t: False),
    ({"number": "(044) 123-45-68"}, lambda c, t: c.dialled_e164 == "+380441234568"),
    ({"caller": "050 111 22 33"}, lambda c, t: c.caller_e164 == "+380501112233"),
    ({"caller": "+380671234567"}, lambda c, t: c.caller_e164 == "+380671234567"),
    (
        {"source": "google", "medium": "cpc"},
        lambda c, t: (c.source, c.medium) == ("google", "cpc"),
    ),
    (
        {"period_from": "2025-03-01T14:00:00+00:00", "period_to": "2025-03-01T18:00:00Z"},
        lambda c, t: T0 + timedelta(hours=4) <= c.started_at < T0 + timedelta(hours=8),
    ),
]


@pytest.mark.parametrize(("given", "reference"), FILTERS)
def test_each_filter_selects_exactly_the_calls_the_reference_selects(
    db: Session,
    world: World,
    given: dict[str, Any],
    reference: Callable[[Call, set[str]], bool],
) -> None:
    calls = varied_calls(db, world)
    tags = {calls[0].id: {"price"}, calls[1].id: {"price", "spam"}, calls[2].id: {"rent"}}
    expected = [c.id for c in reversed(calls) if reference(c, tags.get(c.id, set()))]
    assert all_ids(db, world, CallFilters(**given)) == expected


def test_pages_hold_every_call_exactly_once_newest_first(db: Session, world: World) -> None:
    project = world.ours.project
    # three calls share each start time, so ties are broken by id
    for i in range(120):
        add_call(db, project, started_at=T0 + timedelta(minutes=i // 3))
    db.commit()
    ids = all_ids(db, world, CallFilters(), limit=7)
    stored = db.query(Call).filter_by(project_id=project.id).all()
    newest_first = sorted(stored, key=lambda c: (c.started_at, c.id), reverse=True)
    assert ids == [c.id for c in newest_first]
    assert len(set(ids)) == 120


def test_a_call_arriving_between_pages_does_not_shift_the_next_page(
    db: Session, world: World
) -> None:
    project = world.ours.project
    for i in range(10):
        add_call(db, project, started_at=T0 + timedelta(minutes=i))
    db.commit()
    first = list_calls(db, project, CallFilters(), limit=4)
    add_call(db, project, started_at=T0 + timedelta(hours=1))
    db.commit()
    second = list_calls(db, project, CallFilters(), cursor=first.next_cursor, limit=4)
    seen = [c.id for c in first.items] + [c.id for c in second.items]
    assert len(set(seen)) == 8
    assert second.items[0].started_at == T0 + timedelta(minutes=5)


def test_the_last_page_has_no_cursor(db: Session, world: World) -> None:
    for i in range(4):
        add_call(db, world.ours.project, started_at=T0 + timedelta(minutes=i))
    db.commit()
    page = list_calls(db, world.ours.project, CallFilters(), limit=4)
    assert (len(page.items), page.next_cursor) == (4, None)


def test_a_cursor_round_trips_and_reads_as_no_plain_text() -> None:
    position = Position(datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=UTC), 42)
    cursor = encode_cursor(position)
    assert decode_cursor(cursor) == position
    assert "2025" not in cursor
    assert cursor.replace("-", "").replace("_", "").isalnum()


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "abc",
        "!!!",
        b64("[]"),
        b64("[1, 2]"),
        b64('["x", 1]'),
        b64('{"t": 1, "id": 2}'),
        b64('["2025-03-01T10:00:00", 1]'),
        b64('["2025-03-01T10:00:00+00:00", 0]'),
        b64('["2025-03-01T10:00:00+00:00", true]'),
        b64('["0001-01-01T00:00:00+05:00", 1]'),
    ],
)
def test_a_cursor_not_made_here_is_invalid_input_naming_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert caught.value.field == "cursor"


def test_a_date_is_midnight_in_the_project_time_zone() -> None:
    assert read_moment("2025-03-01", KYIV, "from") == datetime(2025, 2, 28, 22, 0, tzinfo=UTC)
    assert read_moment("2025-07-01", KYIV, "from") == datetime(2025, 6, 30, 21, 0, tzinfo=UTC)
    assert read_moment("2025-03-01T10:00", KYIV, "from") == datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert read_moment("2025-03-01T10:00Z", KYIV, "to") == datetime(2025, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2025-13-01", "2025-03-01T25:00", "0001-01-01T00:00+05:00"]
)
def test_an_unreadable_moment_is_invalid_input_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_moment(text, KYIV, "to")
    assert caught.value.field == "to"


def test_a_call_at_23_30_kyiv_belongs_to_that_kyiv_day(db: Session, world: World) -> None:
    late = add_call(db, world.ours.project, started_at=datetime(2025, 3, 1, 23, 30, tzinfo=KYIV))
    add_call(db, world.ours.project, started_at=datetime(2025, 3, 2, 0, 0, tzinfo=KYIV))
    add_call(db, world.ours.project, started_at=datetime(2025, 2, 28, 23, 59, tzinfo=KYIV))
    db.commit()
    day = CallFilters(period_from="2025-03-01", period_to="2025-03-02")
    assert all_ids(db, world, day) == [late.id]


def test_an_empty_or_reversed_period_names_to(db: Session, world: World) -> None:
    for start, end in (("2025-03-01", "2025-03-01"), ("2025-03-02", "2025-03-01")):
        with pytest.raises(InvalidInput) as caught:
            list_calls(db, world.ours.project, CallFilters(period_from=start, period_to=end))
        assert caught.value.field == "to"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"caller": "12345"}, "caller"),
        ({"number": "not a phone"}, "number"),
        ({"statuses": ["ringing"]}, "status"),
        ({"period_from": "soon"}, "from"),
    ],
)
def test_an_unreadable_filter_is_invalid_input_naming_it(
    db: Session, world: World, given: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_calls(db, world.ours.project, CallFilters(**given))
    assert caught.value.field == field


def test_a_call_shows_its_tags_recording_trace_and_events_in_time_order(
    db: Session, world: World
) -> None:
    call = add_call(
        db,
        world.ours.project,
        attribution_kind="pool",
        attribution_reason="the caller held pool number +380441234567",
        confidence=0.9,
        candidates=[{"visit_id": 7, "score": 0.9}, {"visit_id": 3, "score": 0.1}],
        snapshot={"utm_source": "google"},
    )
    tag_call(db, call, "spam", "price")
    add_recording(db, call)
    add_event(db, call, "ended", T0 + timedelta(seconds=65))
    add_event(db, call, "started", T0)
    add_event(db, call, "answered", T0 + timedelta(seconds=5))
    db.commit()
    detail = get_call(db, world.ours.project, call.id)
    assert (detail.tags, detail.has_recording) == (["price", "spam"], True)
    assert [e.type for e in detail.events] == ["started", "answered", "ended"]
    assert [c["visit_id"] for c in detail.candidates] == [7, 3]
    assert detail.attribution_reason.startswith("the caller held")
    assert detail.snapshot == {"utm_source": "google"}
    assert (detail.caller, detail.dialled) == ("+380671234567", "+380441234567")
    listed = list_calls(db, world.ours.project, CallFilters()).items[0]
    assert (listed.tags, listed.has_recording) == (["price", "spam"], True)


def test_another_projects_call_is_not_found(db: Session, world: World) -> None:
    theirs = add_call(db, world.outsider.project)
    db.commit()
    with pytest.raises(NotFound):
        get_call(db, world.ours.project, theirs.id)
