"""Missed calls as a worklist: settling the callbacks they owe (domain/callbacks.py).

A person settles one with `mark_called_back` (the dashboard's "Called back" button, the
API's `POST .../callback`); ingestion settles them by themselves with `settle_callbacks`
whenever a call it writes is answered (earlier missed calls of that person are settled) or
owes a callback (a later answered call already stored settles it at once), so the order in
which providers deliver calls does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, update
from sqlalchemy.orm import Session

from ringtrail.domain.callbacks import CallFacts, Direction, Resolution, owes_callback
from ringtrail.domain.calls import CallStatus
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import Call


@dataclass(frozen=True)
class WrittenCall:
    """A call ingestion has just written, with its project."""

    project_id: int
    facts: CallFacts
    needs_callback: bool
    """Whether the call is still waiting for a callback as written."""


def mark_called_back(
    db: Session, project_id: int, call_id: int, user_id: int | None, now: datetime
) -> Call:
    """Record that `user_id` (None for an API key) rang back the caller of a missed call.

    A call already settled stays as it was settled; one that never needed a callback is
    InvalidInput; a call of another project is NotFound, like one that does not exist.
    """
    call = db.get(Call, call_id)
    if call is None or call.project_id != project_id:
        raise NotFound("no such call")
    if call.callback_at is not None:
        return call
    if not call.needs_callback:
        raise InvalidInput("callback", "this call does not need a callback")
    call.needs_callback = False
    call.callback_at = now
    call.callback_resolution = Resolution.CALLED_BACK.value
    call.callback_user_id = user_id
    call.callback_call_id = None
    db.flush()
    return call


def settle_callbacks(connection: Connection, written: Iterable[WrittenCall]) -> None:
    """Settle the callbacks the written calls bear on, earliest answered call first."""
    calls = sorted(written, key=lambda w: (w.facts.started_at, w.facts.call_id))
    for item in calls:
        facts = item.facts
        if facts.status == CallStatus.ANSWERED and facts.other_party:
            _settle_earlier(connection, item.project_id, facts)
    for item in calls:
        if item.needs_callback and owes_callback(item.facts):
            _settle_by_later(connection, item.project_id, item.facts)


def _settle_earlier(connection: Connection, project_id: int, answered: CallFacts) -> None:
    """The missed calls of that person before `answered` that are open, or were settled by a
    later answered call (this one came in late but is the earliest)."""
    statement = (
        update(Call)
        .where(
            Call.project_id == project_id,
            Call.caller_e164 == answered.other_party,
            Call.direction == Direction.INBOUND.value,
            Call.started_at < answered.started_at,
            Call.id != answered.call_id,
            or_(
                Call.needs_callback.is_(True),
                and_(
                    Call.callback_resolution == Resolution.ANSWERED_CALL.value,
                    Call.callback_at > answered.started_at,
                ),
            ),
        )
        .values(_settled_by(answered.started_at, answered.call_id))
        .execution_options(synchronize_session=False)
    )
    connection.execute(statement)


def _settle_by_later(connection: Connection, project_id: int, missed: CallFacts) -> None:
    """Settle `missed` now if an answered call with the same person is already stored."""
    later = connection.execute(
        select(Call.id, Call.started_at)
        .where(
            Call.project_id == project_id,
            Call.status == CallStatus.ANSWERED.value,
            Call.started_at > missed.started_at,
            or_(
                and_(Call.direction == Direction.INBOUND.value, Call.caller_e164 == missed.caller),
                and_(
                    Call.direction == Direction.OUTBOUND.value,
                    Call.dialled_e164 == missed.caller,
                ),
            ),
        )
        .order_by(Call.started_at, Call.id)
        .limit(1)
    ).first()
    if later is None:
        return
    connection.execute(
        update(Call)
        .where(Call.id == missed.call_id, Call.needs_callback.is_(True))
        .values(_settled_by(later.started_at, later.id))
        .execution_options(synchronize_session=False)
    )


def _settled_by(started_at: datetime, call_id: int) -> dict[str, object]:
    """The columns of a missed call settled by the answered call `call_id`."""
    return {
        "needs_callback": False,
        "callback_at": started_at,
        "callback_resolution": Resolution.ANSWERED_CALL.value,
        "callback_user_id": None,
        "callback_call_id": call_id,
    }
