"""The engine's rollup path gives exactly the raw path's rows (SQLite and PostgreSQL).

Random calls, leads and visits over a week that crosses a daylight-saving change; some days
rolled up, some rolled up and then changed (stale), some never rolled up. Every dimension
and several filters must match the raw fold, for all key fields and for the narrower `keep`
groupings the reports ask for (summed in SQL on the rollup path).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.domain.reports.rollup import Dimension, RollupKey
from ringtrail.services.reports.engine import (
    CallField,
    LeadField,
    ReportFilters,
    ReportScope,
    VisitField,
    built_months,
    call_rows,
    collapse,
    lead_rows,
    rolled_up_days,
    visit_rows,
)
from ringtrail.services.reports.rollups import (
    dirty_days,
    mark_calls_changed,
    rebuild_project,
    refresh_day,
    refresh_dirty,
    refresh_months,
)
from ringtrail.storage.models import (
    Call,
    CallMonthRollup,
    CallRollup,
    CallSourceRollup,
    CallTag,
    Lead,
    LeadRollup,
    RollupDay,
    RollupDirty,
    RollupMonth,
    Tag,
    Visit,
    Visitor,
    VisitRollup,
    VisitRollupDay,
)
from tests.call_rows import add_call, tag_call
from tests.conftest import World

# Kyiv (the test project's zone) moves its clocks forward on Sunday 30 March 2025.
START = datetime(2025, 3, 26, 22, 0, tzinfo=UTC)  # local midnight of Thursday 27 March
DAYS = 7
PERIOD = Period(date(2025, 3, 27), date(2025, 4, 2))
NOW = datetime(2025, 4, 2, 12, 0, tzinfo=UTC)
MINUTES = DAYS * 24 * 60 - 61  # the clocks skip an hour: the week is an hour short
_serial = itertools.count(1)

calls_strategy = st.fixed_dictionaries(
    {
        "minute": st.integers(0, MINUTES),
        "status": st.sampled_from(["answered", "missed", "busy", "in_progress"]),
        "source": st.sampled_from([None, "google", "facebook"]),
        "campaign": st.sampled_from([None, "spring", "winter"]),
        "is_first_time": st.sampled_from([None, True, False]),
        "is_unique": st.sampled_from([None, True, False]),
        "is_target": st.sampled_from([None, True, False]),
        "talk_seconds": st.sampled_from([None, 0, 25, 90, 400, 900]),
        "wait": st.sampled_from([None, 3, 40]),
        "attribution_kind": st.sampled_from(["static", "session", "unattributed"]),
        "keyword": st.sampled_from([None, "flats", "rent"]),
        "region": st.sampled_from([None, "Kyiv", "Lviv"]),
        "visitor_region": st.sampled_from([None, "Odesa"]),
        "tagged": st.booleans(),
        "late": st.booleans(),
    }
)
leads_strategy = st.tuples(
    st.integers(0, MINUTES),
    st.sampled_from(["call", "form", "callback"]),
    st.sampled_from([None, "google"]),
    st.sampled_from([None, "spring"]),
    st.sampled_from([None, True, False]),
)
CALL_KEEPS: list[tuple[CallField, ...]] = [
    (),
    ("day",),
    ("value",),
    ("source",),
    ("source", "campaign"),
    ("value", "source"),
    ("day", "source"),
    ("day", "value"),
    ("day", "value", "source"),
    ("campaign",),
    ("status", "first_time"),
]
LEAD_KEEPS: list[tuple[LeadField, ...]] = [
    (),
    ("kind",),
    ("day", "kind"),
    ("source", "campaign"),
    ("is_target",),
]
VISIT_KEEPS: list[tuple[VisitField, ...]] = [
    (),
    ("day",),
    ("source",),
    ("medium",),
    ("campaign",),
    ("landing_page",),
    ("day", "source"),
]
FILTERS = [
    ReportFilters(),
    ReportFilters(sources=("google",)),
    ReportFilters(sources=("",), campaigns=("spring", "")),
    ReportFilters(statuses=("answered",), first_time=True),
    ReportFilters(first_time=False),
    ReportFilters(tags=("hot",)),
]


EXAMPLE_CALL: dict[str, Any] = {
    "status": "answered",
    "source": "google",
    "campaign": "spring",
    "is_first_time": True,
    "is_unique": True,
    "is_target": True,
    "talk_seconds": 90,
    "wait": 3,
    "attribution_kind": "session",
    "keyword": "flats",
    "region": "Kyiv",
    "visitor_region": None,
    "tagged": False,
}


def _clear(db: Session, project_id: int) -> None:
    for model in (
        CallMonthRollup,
        RollupMonth,
        CallRollup,
        CallSourceRollup,
        LeadRollup,
        RollupDay,
        RollupDirty,
        VisitRollup,
        VisitRollupDay,
    ):
        db.execute(delete(model).where(model.project_id == project_id))
    db.execute(delete(CallTag))
    db.execute(delete(Tag).where(Tag.project_id == project_id))
    db.execute(delete(Lead).where(Lead.project_id == project_id))
    db.execute(delete(Call).where(Call.project_id == project_id))
    db.commit()


def _add(db: Session, world: World, spec: dict[str, Any], start: datetime = START) -> Call:
    project = world.ours.project
    started = start + timedelta(minutes=spec["minute"])
    answered = spec["status"] == "answered"
    call = add_call(
        db,
        project,
        provider_call_id=f"EQ{next(_serial):030d}",
        started_at=started,
        status=spec["status"],
        answered_at=started + timedelta(seconds=spec["wait"])
        if answered and spec["wait"] is not None
        else None,
        talk_seconds=spec["talk_seconds"],
        source=spec["source"],
        campaign=spec["campaign"],
        is_first_time=spec["is_first_time"],
        is_unique=spec["is_unique"],
        is_target=spec["is_target"],
        attribution_kind=spec["attribution_kind"],
        keyword=spec["keyword"],
        landing_page="/flats" if spec["source"] else None,
        caller_region=spec["region"],
        snapshot={"visitor_geo": {"region": spec["visitor_region"]}}
        if spec["visitor_region"]
        else {},
    )
    if spec["tagged"]:
        tag_call(db, call, "hot")
    return call


def _assert_paths_agree(db: Session, world: World, period: Period) -> None:
    for filters in FILTERS:
        scope = ReportScope.of(world.ours.project, period, filters)
        for dimension in Dimension:
            slow = call_rows(db, scope, dimension, raw=True)
            assert call_rows(db, scope, dimension) == slow, (dimension, filters)
            for keep in CALL_KEEPS:
                fast = call_rows(db, scope, dimension, keep=keep)
                assert fast == collapse(slow, keep), (dimension, filters, keep)
                assert fast == call_rows(db, scope, dimension, keep=keep, raw=True)
        slow_leads = lead_rows(db, scope, raw=True)
        assert lead_rows(db, scope) == slow_leads, filters
        for lead_keep in LEAD_KEEPS:
            fast_leads = lead_rows(db, scope, keep=lead_keep)
            assert fast_leads == collapse(slow_leads, lead_keep), (filters, lead_keep)
            assert fast_leads == lead_rows(db, scope, keep=lead_keep, raw=True)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    calls=st.lists(calls_strategy, max_size=25),
    leads=st.lists(leads_strategy, max_size=8),
    refreshed=st.sets(st.integers(0, DAYS - 1)),
    unbuilt=st.sets(st.integers(0, DAYS - 1), max_size=2),
)
def test_rolled_up_stale_and_unbuilt_days_give_the_raw_rows(
    db: Session,
    world: World,
    calls: list[dict[str, Any]],
    leads: list[tuple[int, str, str | None, str | None, bool | None]],
    refreshed: set[int],
    unbuilt: set[int],
) -> None:
    project = world.ours.project
    _clear(db, project.id)
    for spec in calls:
        if not spec["late"]:
            _add(db, world, spec)
    for minute, kind, source, campaign, is_target in leads:
        db.add(
            Lead(
                project_id=project.id,
                kind=kind,
                created_at=START + timedelta(minutes=minute),
                source=source,
                campaign=campaign,
                is_target=is_target,
            )
        )
    db.commit()
    rebuild_project(db, project.id, now=NOW)

    # Calls arriving after the rebuild mark their days stale, as every writer does.
    late = [_add(db, world, spec) for spec in calls if spec["late"]]
    mark_calls_changed(db, project.id, [call.started_at for call in late])
    db.commit()
    days = PERIOD.dates()
    for stale in dirty_days(db):
        if days.index(stale.day) in refreshed:
            refresh_day(db, stale)
    for offset in unbuilt:
        for model in (CallRollup, CallSourceRollup, LeadRollup, RollupDay):
            db.execute(
                delete(model).where(model.project_id == project.id, model.day == days[offset])
            )
    db.commit()

    _assert_paths_agree(db, world, PERIOD)
    _assert_paths_agree(db, world, Period(days[2], days[4]))


# Six weeks around the whole of March 2025 (Kyiv time), seen from May: March and April are
# past months, so the rebuild sums March into month rollups.
MONTHS_START = datetime(2025, 2, 19, 22, 0, tzinfo=UTC)  # local midnight of 20 February
MONTHS_PERIOD = Period(date(2025, 2, 20), date(2025, 4, 10))
MONTHS_NOW = datetime(2025, 5, 2, 12, 0, tzinfo=UTC)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    calls=st.lists(
        calls_strategy.map(lambda spec: spec | {"minute": spec["minute"] * 7}), max_size=30
    ),
    refreshed=st.booleans(),
    unbuilt=st.sets(st.integers(0, MONTHS_PERIOD.days - 1), max_size=1),
)
def test_month_rollups_give_the_raw_rows(
    db: Session,
    world: World,
    calls: list[dict[str, Any]],
    refreshed: bool,
    unbuilt: set[int],
) -> None:
    project = world.ours.project
    _clear(db, project.id)
    _add(db, world, {**EXAMPLE_CALL, "minute": 30}, MONTHS_START)  # the first day is built
    for spec in calls:
        if not spec["late"]:
            _add(db, world, spec, MONTHS_START)
    db.commit()
    rebuild_project(db, project.id, now=MONTHS_NOW)
    assert built_months(db, project.id, MONTHS_PERIOD, set(MONTHS_PERIOD.dates())) == [
        date(2025, 3, 1)
    ]

    # Late calls make their days stale: March is then read by day (raw for those days)
    # until they are rebuilt, which rebuilds March's month rows too.
    late = [_add(db, world, spec, MONTHS_START) for spec in calls if spec["late"]]
    mark_calls_changed(db, project.id, [call.started_at for call in late])
    db.commit()
    if refreshed:
        refresh_dirty(db, now=MONTHS_NOW)
        march = date(2025, 3, 1)
        assert built_months(db, project.id, MONTHS_PERIOD, set(MONTHS_PERIOD.dates())) == [march]
    days = MONTHS_PERIOD.dates()
    for offset in unbuilt:
        for model in (CallRollup, CallSourceRollup, LeadRollup, RollupDay):
            db.execute(
                delete(model).where(model.project_id == project.id, model.day == days[offset])
            )
    db.commit()

    _assert_paths_agree(db, world, MONTHS_PERIOD)
    _assert_paths_agree(db, world, Period(date(2025, 3, 1), date(2025, 3, 31)))


def test_a_month_is_summed_once_it_is_over(db: Session, world: World) -> None:
    project = world.ours.project
    _clear(db, project.id)
    _add(db, world, {**EXAMPLE_CALL, "minute": 60 * 24 * 20}, MONTHS_START)  # 12 March
    db.commit()
    rebuild_project(db, project.id, now=datetime(2025, 3, 20, tzinfo=UTC))
    march = Period(date(2025, 3, 1), date(2025, 3, 31))
    everything = set(MONTHS_PERIOD.dates())
    assert built_months(db, project.id, march, everything) == []  # March is not over
    assert refresh_months(db, datetime(2025, 3, 31, 12, tzinfo=UTC)) == 0
    # Once March is over, its days the rebuild did not reach (21 to 31 March: no calls, so
    # never marked) are built and March summed; it then serves March whole.
    assert refresh_months(db, datetime(2025, 4, 1, 12, tzinfo=UTC)) == 1
    rolled = rolled_up_days(db, project.id, march)
    assert rolled == {day for day in march.dates() if day >= date(2025, 3, 12)}
    assert built_months(db, project.id, march, everything) == [date(2025, 3, 1)]
    assert refresh_months(db, datetime(2025, 4, 1, 12, tzinfo=UTC)) == 0
    scope = ReportScope.of(project, march)
    assert call_rows(db, scope, keep=()) == call_rows(db, scope, keep=(), raw=True)

    # A call of March changes in April: rebuilding its day alone unmarks March (read by
    # day meanwhile); the job's pass sums March again after its days.
    april = datetime(2025, 4, 2, 12, tzinfo=UTC)
    call = _add(db, world, {**EXAMPLE_CALL, "minute": 60 * 24 * 21}, MONTHS_START)
    mark_calls_changed(db, project.id, [call.started_at])
    db.commit()
    (stale,) = dirty_days(db)
    refresh_day(db, stale, april)
    db.commit()
    assert built_months(db, project.id, march, everything) == []
    assert call_rows(db, scope, keep=()) == call_rows(db, scope, keep=(), raw=True)
    mark_calls_changed(db, project.id, [call.started_at])
    db.commit()
    assert refresh_dirty(db, now=april) == 1
    assert built_months(db, project.id, march, everything) == [date(2025, 3, 1)]
    assert call_rows(db, scope, keep=()) == call_rows(db, scope, keep=(), raw=True)
    assert (
        call_rows(db, scope, keep=())[RollupKey(date.min, "total", "", "", "", "", False)].calls
        == 2
    )


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    visits=st.lists(
        st.tuples(
            st.integers(0, MINUTES),
            st.sampled_from(["google", "(direct)"]),
            st.sampled_from([None, "spring"]),
            st.sampled_from(["/", "/flats", "/" + "x" * 400, "/" + "x" * 350]),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_rolled_up_visit_days_give_the_raw_rows(
    db: Session, world: World, visits: list[tuple[int, str, str | None, str, bool]]
) -> None:
    project = world.ours.project
    for model in (VisitRollup, VisitRollupDay):
        db.execute(delete(model).where(model.project_id == project.id))
    db.execute(delete(Visit).where(Visit.project_id == project.id))
    db.execute(delete(Visitor).where(Visitor.project_id == project.id))
    visitor = Visitor(
        project_id=project.id, public_id="v1", first_seen_at=START, last_seen_at=START
    )
    db.add(visitor)
    db.flush()
    for minute, source, campaign, path, bot in visits:
        moment = START + timedelta(minutes=minute)
        db.add(
            Visit(
                project_id=project.id,
                visitor_id=visitor.id,
                started_at=moment,
                last_seen_at=moment,
                source=source,
                medium="cpc" if source == "google" else "(none)",
                campaign=campaign,
                landing_path=path,
                is_bot=bot,
            )
        )
    db.commit()
    rebuild_project(db, project.id, now=NOW)  # rolls up every day before 2 April
    for filters in FILTERS[:3]:
        for period in (PERIOD, Period(PERIOD.start, PERIOD.start + timedelta(days=1))):
            scope = ReportScope.of(project, period, filters)
            slow = visit_rows(db, scope, raw=True)
            assert visit_rows(db, scope) == slow, filters
            for keep in VISIT_KEEPS:
                fast = visit_rows(db, scope, keep=keep)
                assert fast == collapse(slow, keep), (filters, keep)
                assert fast == visit_rows(db, scope, keep=keep, raw=True)


def test_keys_not_kept_take_their_neutral_values(db: Session, world: World) -> None:
    project = world.ours.project
    _clear(db, project.id)
    _add(db, world, {**_SPEC, "source": "google", "campaign": "spring"})
    _add(db, world, {**_SPEC, "minute": 60 * 30, "source": "google", "campaign": None})
    db.commit()
    rebuild_project(db, project.id, now=NOW)
    scope = ReportScope.of(project, PERIOD)
    rows = call_rows(db, scope, Dimension.KEYWORD, keep=("source",))
    assert list(rows) == [
        RollupKey(date.min, "keyword", "", "google", "", "", False),
    ]
    assert next(iter(rows.values())).calls == 2
    assert call_rows(db, scope, keep=()) == {
        RollupKey(date.min, "total", "", "", "", "", False): next(iter(rows.values()))
    }
    with pytest.raises(ValueError, match="unknown key fields"):
        call_rows(db, scope, keep=("kind",))  # type: ignore[arg-type]


_SPEC: dict[str, Any] = {
    "minute": 0,
    "status": "answered",
    "source": None,
    "campaign": None,
    "is_first_time": True,
    "is_unique": True,
    "is_target": True,
    "talk_seconds": 90,
    "wait": 3,
    "attribution_kind": "session",
    "keyword": "flats",
    "region": None,
    "visitor_region": None,
    "tagged": False,
    "late": False,
}
