"""Routing a dialled number: its own line, else the project's main number, never a loop."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.call_routing import (
    KnownRoute,
    LastKnownRoutes,
    Route,
    RouteReason,
    route_call,
)
from ringtrail.storage.models import TrackingNumber
from tests.conftest import World

TRACKING = "+380443334455"
LINE = "+380501234567"
MAIN = "+380441112233"


@pytest.fixture
def number(db: Session, world: World) -> TrackingNumber:
    world.ours.project.main_number = MAIN
    row = TrackingNumber(
        project_id=world.ours.project.id, e164=TRACKING, kind="static", forward_to=LINE
    )
    db.add(row)
    db.commit()
    return row


def test_a_tracking_number_rings_its_own_line(
    db: Session, world: World, number: TrackingNumber
) -> None:
    route = route_call(db, TRACKING, project=world.ours.project)
    assert route == Route(world.ours.project.id, number.id, LINE, RouteReason.TRACKING_NUMBER)


def test_a_national_form_is_read_in_the_projects_country(
    db: Session, world: World, number: TrackingNumber
) -> None:
    assert route_call(db, "044 333 44 55", project=world.ours.project).forward_to == LINE


def test_without_a_project_the_number_names_it(
    db: Session, world: World, number: TrackingNumber
) -> None:
    route = route_call(db, TRACKING)
    assert (route.project_id, route.forward_to) == (world.ours.project.id, LINE)


@pytest.mark.parametrize("dialled", ["+380443334400", "client:alice", "", None])
def test_an_unknown_number_rings_the_main_number(
    db: Session, world: World, number: TrackingNumber, dialled: str | None
) -> None:
    route = route_call(db, dialled, project=world.ours.project)
    assert route == Route(world.ours.project.id, None, MAIN, RouteReason.MAIN_NUMBER)


def test_an_inactive_number_rings_the_main_number(
    db: Session, world: World, number: TrackingNumber
) -> None:
    number.is_active = False
    db.commit()
    assert route_call(db, TRACKING, project=world.ours.project).forward_to == MAIN


@pytest.mark.parametrize("forward_to", [None, TRACKING], ids=["no-line", "itself"])
def test_a_number_without_a_usable_line_rings_the_main_number(
    db: Session, world: World, number: TrackingNumber, forward_to: str | None
) -> None:
    number.forward_to = forward_to
    db.commit()
    route = route_call(db, TRACKING, project=world.ours.project)
    assert (route.forward_to, route.reason) == (MAIN, RouteReason.MAIN_NUMBER)
    assert route.tracking_number_id == number.id


def test_another_projects_number_is_unknown_to_this_project(
    db: Session, world: World, number: TrackingNumber
) -> None:
    world.outsider.project.main_number = "+380442223344"
    db.commit()
    route = route_call(db, TRACKING, project=world.outsider.project)
    assert route == Route(world.outsider.project.id, None, "+380442223344", RouteReason.MAIN_NUMBER)


def test_with_no_line_and_no_main_number_there_is_nowhere_to_go(
    db: Session, world: World, number: TrackingNumber
) -> None:
    world.ours.project.main_number = None
    db.commit()
    route = route_call(db, "+380443334400", project=world.ours.project)
    assert route == Route(world.ours.project.id, None, None, RouteReason.NO_DESTINATION)


def test_the_main_number_is_never_forwarded_to_itself(
    db: Session, world: World, number: TrackingNumber
) -> None:
    route = route_call(db, MAIN, project=world.ours.project)
    assert route.reason is RouteReason.NO_DESTINATION


def test_an_unknown_number_without_a_project_routes_nowhere(db: Session) -> None:
    assert route_call(db, "+380443334400") == Route(None, None, None, RouteReason.NO_DESTINATION)


def test_last_known_routes_forget_the_oldest_beyond_capacity() -> None:
    memory = LastKnownRoutes(capacity=2)
    known = KnownRoute(1, "token", Route(1, None, MAIN, RouteReason.MAIN_NUMBER))
    for dialled in ("+1", "+2", "+3"):
        memory.remember("twilio", "AC1", dialled, known)
    assert memory.recall("twilio", "AC1", "+1") is None
    assert memory.recall("twilio", "AC1", "+3") == known
    assert memory.recall("twilio", "AC2", "+3") is None
