"""Unmatched calls: calls no project could claim (a number nobody tracks, no known trunk).

They are stored with no project, so no member of any project sees them; the operator lists
them (`ringtrail calls unmatched`) and gives one to a project, which attributes it again as
if that project's webhook had delivered its events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.attribution import AttributionKind
from ringtrail.leases.history import write_transaction
from ringtrail.services.audit import record
from ringtrail.services.call_ingestion import CallIngestion, _Batch, _written_calls, event_from_row
from ringtrail.services.callbacks import settle_callbacks
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import Call, CallEvent, Project

MAX_LISTED = 500


@dataclass(frozen=True)
class UnmatchedCall:
    """One call no project claimed, as the operator sees it."""

    id: int
    provider: str
    started_at: datetime
    dialled: str
    caller: str | None
    status: str
    source: str | None
    """The SIP trunk address its events carry, if any."""


def list_unmatched(db: Session, limit: int = 100) -> list[UnmatchedCall]:
    """Calls with no project, newest first."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LISTED}")
    calls = db.scalars(
        select(Call)
        .where(Call.project_id.is_(None))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()
    sources: dict[int, str] = {}
    if calls:
        rows = db.execute(
            select(CallEvent.call_id, CallEvent.payload).where(
                CallEvent.call_id.in_([call.id for call in calls])
            )
        )
        for call_id, payload in rows:
            source = (payload.get("raw") or {}).get("source")
            if isinstance(source, str) and source:
                sources.setdefault(call_id, source)
    return [
        UnmatchedCall(
            call.id,
            call.provider,
            call.started_at,
            call.dialled_e164,
            call.caller_e164,
            call.status,
            sources.get(call.id),
        )
        for call in calls
    ]


def assign_call(
    db: Session, ingestion: CallIngestion, call_id: int, project: Project, now: datetime
) -> int | None:
    """Give an unmatched call to `project` and attribute it there; the call's project after.

    Only the project's own numbers count, as for a webhook that proves its project. A call
    that already has a project is refused (NotFound when there is no such call).
    """
    call = db.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call.project_id is not None:
        raise InvalidInput("call", f"call {call_id} already belongs to project {call.project_id}")
    key = (call.provider, call.provider_call_id)
    db.rollback()  # the claim runs in its own write transaction, with the call row locked
    with write_transaction(ingestion.engine) as connection:
        rows = connection.execute(
            select(CallEvent.dedupe_key, CallEvent.payload).where(CallEvent.call_id == call_id)
        ).all()
        events = [event_from_row(key[0], key[1], dedupe, payload) for dedupe, payload in rows]
        if not events:
            raise InvalidInput("call", f"call {call_id} has no events to attribute")
        work = ingestion.lock_calls(connection, {key: events}, None, now)
        if work[0].row["project_id"] is not None:
            raise InvalidInput("call", f"call {call_id} was claimed meanwhile")
        for item in work:
            item.stored = list(events)
            item.row["attribution_kind"] = AttributionKind.PENDING.value  # again, for this project
        batch = _Batch()
        ingestion.rebuild_timelines(connection, work)
        ingestion.attribute(connection, batch, work, project.id)
        ingestion.write_calls(connection, work, None, now)
        settle_callbacks(connection, _written_calls(work))
        ingestion.mark_report_days(connection, batch, work, now)
        claimed = work[0].values.get("project_id")
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="call.assign",
        object_type="calls",
        object_id=call_id,
        changes={"project_id": {"old": None, "new": claimed}},
    )
    return claimed if isinstance(claimed, int) else None
