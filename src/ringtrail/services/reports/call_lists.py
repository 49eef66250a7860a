"""The few report figures that are single calls or a live state, not additive counts.

The longest calls (report 5) are individual calls with their recording; "needs a callback"
is a flag sales clear when they ring back (or a later answered call clears), a to-do state
that rollups do not keep, and so is how long callbacks took. All are read straight from the
calls with the same scope conditions as the engine's raw path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.reports.periods import local_day
from ringtrail.recordings.policy import RecordingStatus
from ringtrail.services.reports.engine import ReportScope, call_conditions, text
from ringtrail.storage.db import dialect_of
from ringtrail.storage.models import Call, Recording


@dataclass(frozen=True)
class LongCall:
    """One of the longest calls, with whether its audio can be played."""

    call_id: int
    started_at: datetime
    talk_seconds: int
    source: str
    campaign: str
    caller_region: str
    has_recording: bool


def longest_calls(db: Session, scope: ReportScope, limit: int = 10) -> list[LongCall]:
    """The scope's answered calls with the most talk time, longest first (ties: newest).

    Calls without a talk time (still going on) are left out. The order is the backward walk
    of the index on (project, talk time, start, id), so a period of any length reads only
    the index entries down to the tenth call in range.
    """
    query = (
        select(
            Call.id,
            Call.started_at,
            Call.talk_seconds,
            Call.source,
            Call.campaign,
            Call.caller_region,
        )
        .where(
            *call_conditions(scope),
            Call.status == CallStatus.ANSWERED,
            Call.talk_seconds.is_not(None),
        )
        .order_by(Call.talk_seconds.desc(), Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    )
    rows = list(db.execute(query))
    ids = [row.id for row in rows]
    stored = set(
        db.scalars(
            select(Recording.call_id).where(
                Recording.call_id.in_(ids), Recording.status == RecordingStatus.STORED
            )
        )
    )
    return [
        LongCall(
            call_id=row.id,
            started_at=row.started_at,
            talk_seconds=max(row.talk_seconds or 0, 0),
            source=text(row.source),
            campaign=text(row.campaign),
            caller_region=text(row.caller_region),
            has_recording=row.id in stored,
        )
        for row in rows
    ]


def callbacks_by_day(db: Session, scope: ReportScope) -> dict[date, int]:
    """The scope's calls still flagged for a callback, by local day.

    `= true` rather than `IS TRUE`: PostgreSQL then reads the partial index of such calls,
    and counts them by local day itself; SQLite has no time zones, so there they are
    counted here.
    """
    conditions = (*call_conditions(scope), Call.needs_callback == true())
    if dialect_of(db) == "postgresql":
        day = func.date(func.timezone(scope.zone.key, Call.started_at))
        query = select(day, func.count()).where(*conditions).group_by(day)
        return {row[0]: int(row[1]) for row in db.execute(query)}
    counts: dict[date, int] = {}
    for (started_at,) in db.execute(select(Call.started_at).where(*conditions)):
        local = local_day(started_at, scope.zone)
        counts[local] = counts.get(local, 0) + 1
    return counts


def callback_delays(db: Session, scope: ReportScope) -> list[timedelta | None]:
    """For each of the scope's calls that needed a callback: how long after the call it was
    settled (domain/callbacks.py), None while it is still open."""
    conditions = (
        *call_conditions(scope),
        or_(Call.needs_callback == true(), Call.callback_at.is_not(None)),
    )
    rows = db.execute(select(Call.started_at, Call.callback_at).where(*conditions))
    return [None if settled is None else settled - started for started, settled in rows]
