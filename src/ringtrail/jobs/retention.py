"""The retention job: each project's personal data past its retention period, in batches.

Every project says how many days it keeps recordings, transcripts, calls and visits (None:
forever). One pass, each step bounded by `limit` rows:

- Recordings: `delete_after` is set when a recording is queued or uploaded (the call's start
  plus `recording_retention_days`) and set again here after the setting changed (the change
  clears it). An expired recording's file is deleted from the store,
then the row becomes `deleted` with its `storage_key` cleared (size, type and duration stay
for reports). A recording still waiting to be fetched is marked `deleted` without a fetch.
The row is changed only if nobody changed it since it was read, so an upload or a fetch that
lands meanwhile is looked at again on the next pass.
- Transcripts of calls older than `transcript_retention_days` are cleared.
- Calls older than `call_retention_days` are deleted with everything that hangs off them:
  events, recordings (files first; a call whose file cannot be deleted waits for the next
  pass), tags, scores, comments, the leads the call made and its outbound deliveries.
- Visits older than `visit_retention_days` are deleted, then visitors seen last before then.
- Refused-visit log rows not seen for `services.refusals.RETENTION_DAYS` are deleted (for
  every project: they are diagnostics, with a sample page and User-Agent); refused-webhook
  rows likewise after `services.webhook_refusals.RETENTION_DAYS`.

Report rollups are kept: they hold counts by day, source and campaign, no personal data, so
reports of the deleted period still show its totals and reports of the kept period are
unchanged (the rollup job never rebuilds a built day unless a change marks it; a time-zone
change or a full `rebuild_project` rebuilds the deleted period from what is left).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, delete, or_, select, update

from ringtrail.domain.privacy import retention_cutoff
from ringtrail.recordings.policy import RecordingStatus, retention_deadline
from ringtrail.recordings.storage import RecordingStore
from ringtrail.services.privacy import delete_call_rows, delete_recording_files
from ringtrail.services.refusals import purge_refusals
from ringtrail.services.transcripts import clear_old_call_transcripts
from ringtrail.services.webhook_refusals import purge_webhook_refusals
from ringtrail.storage.models import (
    Call,
    Lead,
    OutboundDelivery,
    Project,
    Recording,
    Visit,
    Visitor,
)

log = logging.getLogger(__name__)

recordings = cast(Table, Recording.__table__)
calls = cast(Table, Call.__table__)
projects = cast(Table, Project.__table__)
visits = cast(Table, Visit.__table__)
visitors = cast(Table, Visitor.__table__)
leads = cast(Table, Lead.__table__)
deliveries = cast(Table, OutboundDelivery.__table__)


@dataclass
class RetentionReport:
    """What one pass deleted; `busy` when a step stopped at its limit with more waiting."""

    recordings: int = 0
    transcripts: int = 0
    calls: int = 0
    visits: int = 0
    visitors: int = 0
    refusals: int = 0
    rescheduled: int = 0
    busy: bool = False
    failed_projects: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            self.recordings
            + self.transcripts
            + self.calls
            + self.visits
            + self.visitors
            + self.refusals
        )


def enforce_retention(
    engine: Engine, store: RecordingStore, now: datetime, limit: int = 500
) -> RetentionReport:
    """One pass of every retention rule as of `now`, each step deleting at most `limit` rows."""
    report = RetentionReport()
    report.rescheduled = schedule_recording_deletion(engine, limit)
    report.recordings = delete_expired_recordings(engine, store, now, limit)
    report.refusals = purge_refusals(engine, now, limit)
    report.refusals += purge_webhook_refusals(engine, now, limit)
    with engine.connect() as connection:
        settings = connection.execute(
            select(
                projects.c.id,
                projects.c.transcript_retention_days,
                projects.c.call_retention_days,
                projects.c.visit_retention_days,
            ).where(
                or_(
                    projects.c.transcript_retention_days.is_not(None),
                    projects.c.call_retention_days.is_not(None),
                    projects.c.visit_retention_days.is_not(None),
                )
            )
        ).all()
    for row in settings:
        try:
            transcripts = retention_cutoff(now, row.transcript_retention_days)
            if transcripts is not None:
                report.transcripts += clear_old_transcripts(engine, row.id, transcripts, limit)
                report.transcripts += clear_old_call_transcripts(
                    engine, row.id, transcripts, limit, now
                )
            old_calls = retention_cutoff(now, row.call_retention_days)
            if old_calls is not None:
                report.calls += delete_old_calls(engine, store, row.id, old_calls, limit)
            old_visits = retention_cutoff(now, row.visit_retention_days)
            if old_visits is not None:
                gone, left = delete_old_visits(engine, row.id, old_visits, limit)
                report.visits += gone
                report.visitors += left
        except Exception:  # one project's failure must not stop the others
            log.exception("retention failed for project %s", row.id)
            report.failed_projects.append(row.id)
    report.busy = report.rescheduled >= limit or report.recordings >= limit
    report.busy = report.busy or report.refusals >= limit
    report.busy = report.busy or max(report.transcripts, report.calls, report.visits) >= limit
    return report


def schedule_recording_deletion(engine: Engine, limit: int = 500) -> int:
    """Set `delete_after` of up to `limit` kept recordings whose project's retention changed."""
    with engine.begin() as connection:
        rows = connection.execute(
            select(recordings.c.id, calls.c.started_at, projects.c.recording_retention_days)
            .join(calls, calls.c.id == recordings.c.call_id)
            .join(projects, projects.c.id == calls.c.project_id)
            .where(
                recordings.c.delete_after.is_(None),
                recordings.c.status != RecordingStatus.DELETED,
                projects.c.recording_retention_days.is_not(None),
            )
            .limit(limit)
        ).all()
        for row in rows:
            connection.execute(
                update(recordings)
                .where(recordings.c.id == row.id, recordings.c.delete_after.is_(None))
                .values(
                    delete_after=retention_deadline(row.started_at, row.recording_retention_days)
                )
            )
    return len(rows)


def clear_old_transcripts(engine: Engine, project_id: int, before: datetime, limit: int) -> int:
    """Clear up to `limit` transcripts of the project's calls that started before `before`."""
    with engine.begin() as connection:
        ids = (
            connection.execute(
                select(recordings.c.id)
                .join(calls, calls.c.id == recordings.c.call_id)
                .where(
                    calls.c.project_id == project_id,
                    calls.c.started_at < before,
                    recordings.c.transcript.is_not(None),
                )
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if ids:
            connection.execute(
                update(recordings).where(recordings.c.id.in_(ids)).values(transcript=None)
            )
    return len(ids)


def delete_old_calls(
    engine: Engine, store: RecordingStore, project_id: int, before: datetime, limit: int
) -> int:
    """Delete up to `limit` of the project's calls that started before `before`."""
    with engine.connect() as connection:
        ids = (
            connection.execute(
                select(calls.c.id)
                .where(calls.c.project_id == project_id, calls.c.started_at < before)
                .order_by(calls.c.started_at, calls.c.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        kept = delete_recording_files(connection, store, ids) if ids else set()
    doomed = [call_id for call_id in ids if call_id not in kept]
    with engine.begin() as connection:
        return delete_call_rows(connection, doomed).get("calls", 0)


def delete_old_visits(
    engine: Engine, project_id: int, before: datetime, limit: int
) -> tuple[int, int]:
    """Delete up to `limit` visits that started before `before`, then visitors not seen since
    who have no visit left; returns (visits, visitors) deleted."""
    with engine.begin() as connection:
        ids = (
            connection.execute(
                select(visits.c.id)
                .where(visits.c.project_id == project_id, visits.c.started_at < before)
                .order_by(visits.c.started_at, visits.c.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        gone = connection.execute(delete(visits).where(visits.c.id.in_(ids))).rowcount if ids else 0
        idle = (
            connection.execute(
                select(visitors.c.id)
                .where(
                    visitors.c.project_id == project_id,
                    visitors.c.last_seen_at < before,
                    ~select(visits.c.id).where(visits.c.visitor_id == visitors.c.id).exists(),
                )
                .limit(limit)
            )
            .scalars()
            .all()
        )
        left = (
            connection.execute(delete(visitors).where(visitors.c.id.in_(idle))).rowcount
            if idle
            else 0
        )
    return gone, left


def delete_expired_recordings(
    engine: Engine, store: RecordingStore, now: datetime, limit: int = 500
) -> int:
    """Delete the audio of up to `limit` recordings past their retention; returns how many."""
    with engine.connect() as connection:
        expired = connection.execute(
            select(recordings.c.id, recordings.c.status, recordings.c.storage_key)
            .where(
                recordings.c.delete_after <= now,
                recordings.c.status != RecordingStatus.DELETED,
            )
            .order_by(recordings.c.delete_after, recordings.c.id)
            .limit(limit)
        ).all()
    deleted = 0
    for row in expired:
        if row.storage_key:
            try:
                store.delete(row.storage_key)
            except Exception:  # the store is down: keep the row as it is, try next pass
                log.exception("could not delete recording %s (%s)", row.id, row.storage_key)
                continue
        unchanged = (
            recordings.c.storage_key.is_(None)
            if row.storage_key is None
            else recordings.c.storage_key == row.storage_key
        )
        with engine.begin() as connection:
            result = connection.execute(
                update(recordings)
                .where(recordings.c.id == row.id, recordings.c.status == row.status, unchanged)
                .values(status=RecordingStatus.DELETED, storage_key=None, next_attempt_at=None)
            )
        deleted += result.rowcount
    return deleted
