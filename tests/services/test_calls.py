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
    # As reports count it: an unknown standing (no caller id) is not first-time.
    ({"first_time": False}, lambda c, t: c.is_first_time is not True),
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


# Drill-down filters: each must list exactly the calls the report row counted.


def drill_calls(db: Session, world: World) -> list[Call]:
    """Calls that differ in every drill-down dimension, three hours apart."""
    long_page = "https://acme-realty.example/" + "p" * 400
    rows: list[dict[str, Any]] = [
        {"keyword": "flat to rent", "landing_page": "https://acme-realty.example/offer"},
        {"keyword": None, "caller_region": "Kyiv", "attribution_kind": "static"},
        {"keyword": "", "caller_region": "Lviv", "attribution_kind": "session"},
        {"snapshot": {"visitor_geo": {"region": "Odesa"}}, "attribution_kind": "pool_source"},
        {"snapshot": {"visitor_geo": "broken"}, "status": "missed", "talk_seconds": None},
        {"talk_seconds": 30, "landing_page": long_page, "source": None},
        {"talk_seconds": -3, "source": "", "campaign": "Spring Sale", "caller_e164": None},
        {"talk_seconds": 700, "caller_e164": "+380509876543", "campaign": "autumn"},
    ]
    calls = [
        add_call(db, world.ours.project, started_at=T0 + timedelta(hours=3 * i), **row)
        for i, row in enumerate(rows)
    ]
    add_call(db, world.outsider.project, keyword="flat to rent", started_at=T0)
    db.commit()
    return calls


def region(call: Call) -> str:
    geo = (call.snapshot or {}).get("visitor_geo")
    return (geo.get("region") if isinstance(geo, dict) else None) or ""


def kyiv_cell(call: Call) -> str:
    local = call.started_at.astimezone(KYIV)
    return f"{local.weekday()}-{local.hour:02d}"


def talk(call: Call) -> int:
    return max(call.talk_seconds or 0, 0)


LONG = "https://acme-realty.example/" + "p" * 272
DRILLS: list[tuple[dict[str, Any], Callable[[Call], bool]]] = [
    ({"keyword": "flat to rent"}, lambda c: c.keyword == "flat to rent"),
    ({"keyword": ""}, lambda c: not c.keyword),
    ({"source": ""}, lambda c: not c.source),
    ({"sources": ["", "nowhere"]}, lambda c: not c.source),
    ({"campaigns": ["autumn", "Spring Sale"]}, lambda c: c.campaign in {"autumn", "Spring Sale"}),
    ({"landing_page": LONG}, lambda c: (c.landing_page or "").startswith(LONG)),
    ({"landing_page": ""}, lambda c: not c.landing_page),
    ({"caller_region": "Kyiv"}, lambda c: c.caller_region == "Kyiv"),
    ({"caller_region": ""}, lambda c: not c.caller_region),
    ({"visitor_region": "Odesa"}, lambda c: region(c) == "Odesa"),
    ({"visitor_region": ""}, lambda c: region(c) == ""),
    ({"origin": "ad"}, lambda c: c.attribution_kind == "static"),
    ({"origin": "site"}, lambda c: c.attribution_kind in {"session", "pool_source"}),
    (
        {"origin": "unknown"},
        lambda c: c.attribution_kind not in {"static", "session", "pool_source"},
    ),
    ({"duration": "not_answered"}, lambda c: c.status != "answered"),
    ({"duration": "0-30s"}, lambda c: c.status == "answered" and talk(c) < 30),
    ({"duration": "30s-1m"}, lambda c: c.status == "answered" and 30 <= talk(c) < 60),
    ({"duration": "1-3m"}, lambda c: c.status == "answered" and 60 <= talk(c) < 180),
    ({"duration": "10m+"}, lambda c: c.status == "answered" and talk(c) >= 600),
    ({"hour_of_week": "5-12"}, lambda c: kyiv_cell(c) == "5-12"),
    ({"hour_of_week": "6-03"}, lambda c: kyiv_cell(c) == "6-03"),
    ({"hour_of_week": "0-00"}, lambda c: False),
    ({"search": "FLAT"}, lambda c: "flat" in (c.keyword or "")),
    ({"search": "spring"}, lambda c: "spring" in (c.campaign or "").lower()),
    ({"search": "98765"}, lambda c: "98765" in (c.caller_e164 or "")),
    ({"search": "  "}, lambda c: True),
    ({"search": "50%"}, lambda c: False),
]


@pytest.mark.parametrize(("given", "reference"), DRILLS)
def test_each_drill_filter_selects_exactly_the_calls_the_reference_selects(
    db: Session, world: World, given: dict[str, Any], reference: Callable[[Call], bool]
) -> None:
    calls = drill_calls(db, world)
    expected = [c.id for c in reversed(calls) if reference(c)]
    assert all_ids(db, world, CallFilters(**given), limit=2) == expected


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"origin": "tv"}, "origin"),
        ({"duration": "forever"}, "duration"),
        ({"hour_of_week": "7-01"}, "hour_of_week"),
        ({"hour_of_week": "1-24"}, "hour_of_week"),
        ({"hour_of_week": "monday"}, "hour_of_week"),
    ],
)
def test_an_unreadable_drill_value_is_invalid_input_naming_it(
    db: Session, world: World, given: dict[str, Any], field: str
) -> None:
    add_call(db, world.ours.project)
    db.commit()
    with pytest.raises(InvalidInput) as caught:
        list_calls(db, world.ours.project, CallFilters(**given))
    assert caught.value.field == field


def test_hour_of_week_follows_local_time_across_daylight_saving_changes(
    db: Session, world: World
) -> None:
    project = world.ours.project
    # Kyiv: 2024-03-31 03:00 EET became 04:00 EEST; 2024-10-27 04:00 EEST became 03:00 EET.
    moments = [
        datetime(2024, 3, 31, 0, 30, tzinfo=UTC),  # Sunday 02:30 EET
        datetime(2024, 3, 31, 1, 30, tzinfo=UTC),  # Sunday 04:30 EEST
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC),  # Sunday 03:30 EEST (first pass)
        datetime(2024, 10, 27, 1, 30, tzinfo=UTC),  # Sunday 03:30 EET (second pass)
        datetime(2024, 10, 27, 2, 30, tzinfo=UTC),  # Sunday 04:30 EET
        datetime(2024, 7, 7, 0, 30, tzinfo=UTC),  # Sunday 03:30 EEST
    ]
    calls = [add_call(db, project, started_at=moment) for moment in moments]
    db.commit()
    newest_first = sorted(calls, key=lambda c: c.started_at, reverse=True)
    for cell in ("6-02", "6-03", "6-04"):
        expected = [c.id for c in newest_first if kyiv_cell(c) == cell]
        assert all_ids(db, world, CallFilters(hour_of_week=cell)) == expected, cell
        within = CallFilters(hour_of_week=cell, period_from="2024-10-01", period_to="2024-11-01")
        expected_october = [c.id for c in reversed(calls[2:5]) if kyiv_cell(c) == cell]
        assert all_ids(db, world, within) == expected_october, cell
    assert len(all_ids(db, world, CallFilters(hour_of_week="6-03"))) == 3


def test_a_project_without_calls_lists_none_for_an_hour_of_week(db: Session, world: World) -> None:
    assert all_ids(db, world, CallFilters(hour_of_week="0-09")) == []


def test_a_call_detail_carries_marks_and_deal_value(db: Session, world: World) -> None:
    call = add_call(db, world.ours.project, is_target=True, target_set_by="user", deal_value=99.5)
    db.commit()
    detail = get_call(db, world.ours.project, call.id)
    assert (detail.target_set_by, detail.deal_value) == ("user", 99.5)
    assert (detail.comments, detail.scores) == ([], [])
