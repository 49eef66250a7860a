"""Where an incoming call goes: the project a dialled number belongs to and the line it rings.

A tracking number rings its `forward_to`; a number we do not know (or one with no line of its
own) rings the project's main number; with neither the call has nowhere to go, and the
provider adapter plays a message instead. Never a loop: a number is not forwarded to itself.
`LastKnownRoutes` remembers recent answers so a call can still be put through while the
database is unreachable.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.storage.models import Project, TrackingNumber


class RouteReason(StrEnum):
    """Why a call goes where it goes (logged, and shown when a call looks misrouted)."""

    TRACKING_NUMBER = "tracking_number"
    """The dialled tracking number's own `forward_to`."""
    MAIN_NUMBER = "main_number"
    """The number is unknown, inactive or has no `forward_to`: the project's main number."""
    NO_DESTINATION = "no_destination"
    """Neither a forward_to nor a main number (or only the dialled number itself)."""


@dataclass(frozen=True)
class Route:
    """The answer for one dialled number."""

    project_id: int | None
    tracking_number_id: int | None
    forward_to: str | None
    reason: RouteReason


def route_call(db: Session, dialled: str | None, *, project: Project | None = None) -> Route:
    """Route a call to `dialled`.

    With `project` (a webhook that proves its project, such as Twilio's AccountSid) only that
    project's numbers count, so one tenant's call never rings another's line; without it,
    the number decides the project.
    """
    dialled_e164 = _normalise(dialled, project.default_country if project else None)
    number = _tracking_number(db, dialled_e164, project) if dialled_e164 else None
    if project is None and number is not None:
        project = db.get(Project, number.project_id)
    project_id = project.id if project is not None else None
    number_id = number.id if number is not None else None

    if number is not None and number.forward_to and number.forward_to != dialled_e164:
        return Route(project_id, number_id, number.forward_to, RouteReason.TRACKING_NUMBER)
    main_number = project.main_number if project is not None else None
    if main_number and main_number != dialled_e164:
        return Route(project_id, number_id, main_number, RouteReason.MAIN_NUMBER)
    return Route(project_id, number_id, None, RouteReason.NO_DESTINATION)


def _normalise(dialled: str | None, country: str | None) -> str | None:
    if not dialled:
        return None
    try:
        return to_e164(dialled, country)
    except InvalidPhoneNumber:
        return None  # a SIP address or `client:` name: not one of our numbers


def _tracking_number(db: Session, e164: str, project: Project | None) -> TrackingNumber | None:
    query = select(TrackingNumber).where(
        TrackingNumber.e164 == e164, TrackingNumber.is_active.is_(True)
    )
    if project is not None:
        query = query.where(TrackingNumber.project_id == project.id)
    return db.scalars(query).first()


@dataclass(frozen=True)
class KnownRoute:
    """What a provider webhook needed from the database last time: project, secret, route."""

    project_id: int
    secret: str
    route: Route


class LastKnownRoutes:
    """The most recent routes, kept in this process for calls made while the DB is down.

    Used only when the database cannot be read; bounded, least recently stored dropped
    first. A secret or forward_to changed during an outage is seen once the DB is back.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, str, str], KnownRoute] = OrderedDict()
        self._lock = Lock()

    def remember(self, provider: str, account_ref: str, dialled: str, known: KnownRoute) -> None:
        """Store the route for (provider, account, dialled number)."""
        key = (provider, account_ref, dialled)
        with self._lock:
            self._items[key] = known
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def recall(self, provider: str, account_ref: str, dialled: str) -> KnownRoute | None:
        """The last route stored for (provider, account, dialled number), if any."""
        with self._lock:
            return self._items.get((provider, account_ref, dialled))
