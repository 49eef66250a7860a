"""The recording fetch job: claim a due recording, download it, store it, record the outcome.

The queue is the `recordings` table. A claim is one conditional UPDATE that moves a due row
(`pending`, or `fetching` whose claim ran out) to `fetching`, counts the attempt and sets
`next_attempt_at` to the end of the claim; on PostgreSQL the row is picked with
`FOR UPDATE SKIP LOCKED`, on SQLite the single statement holds the write lock. A worker that
dies mid-download leaves the row `fetching`; once the claim runs out another worker takes it.
Every outcome is written only if the row is still this worker's claim (same status and
attempt count), so a worker that was too slow can never overwrite a later worker's result.
A download goes only to the provider's hosts and those the owner listed, and only to public
addresses (or the operator's `RINGTRAIL_RECORDING_FETCH_ALLOWED_NETWORKS`), through a client
from `fetch_client`; a refusal fails the recording at once, its `error` saying why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

import httpx
from sqlalchemy import Engine, Table, and_, or_, select, update

from ringtrail.jobs.claims import oldest_due_id
from ringtrail.recordings.fetch import FetchFailed, download_renewing, make_http_client
from ringtrail.recordings.library import account_for_call
from ringtrail.recordings.policy import (
    MAX_ATTEMPTS,
    FailureKind,
    RecordingStatus,
    claim_expires_at,
    recording_key,
    retry_at,
)
from ringtrail.recordings.resolvers import resolver_for
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.services.deliveries.enqueue import CallNote, note_calls
from ringtrail.storage.models import Call, Recording

log = logging.getLogger(__name__)

recordings = cast(Table, Recording.__table__)
calls = cast(Table, Call.__table__)
MAX_ERROR_CHARS = 2000
_TRANSIENT = FailureKind.TRANSIENT
ABANDONED = "gave up: the last try never finished (the worker stopped during the download)"


class FetchOutcome(StrEnum):
    """What became of one claimed recording."""

    STORED = "stored"
    RETRY = "retry"  # failed this time, pending again with a later next_attempt_at
    FAILED = "failed"  # failed for good
    LOST = "lost"  # the claim ran out and another worker (or the retention job) took over


@dataclass(frozen=True)
class Claim:
    """A recording this worker may fetch until its claim runs out."""

    recording_id: int
    call_id: int
    project_id: int | None
    provider: str
    provider_url: str
    attempts: int


@dataclass(frozen=True)
class FetchReport:
    """Counts of one fetch pass."""

    stored: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0

    @property
    def claimed(self) -> int:
        """How many recordings the pass took."""
        return self.stored + self.retried + self.failed + self.lost


def fetch_client(runtime: Runtime) -> httpx.Client:
    """The HTTP client for recording fetches, with the networks the operator allows."""
    return make_http_client(runtime.settings.recording_fetch_allowed_networks)


def _due(now: datetime) -> Any:
    return and_(
        recordings.c.status.in_((RecordingStatus.PENDING, RecordingStatus.FETCHING)),
        recordings.c.next_attempt_at <= now,
        recordings.c.provider_url.is_not(None),
        recordings.c.attempts < MAX_ATTEMPTS,
        or_(recordings.c.delete_after.is_(None), recordings.c.delete_after > now),
    )


def claim_next(engine: Engine, now: datetime) -> Claim | None:
    """Claim the recording due longest, or None when nothing is due. One short transaction."""
    claim = (
        update(recordings)
        # The due conditions again on the outer statement: PostgreSQL rechecks them against
        # the newest row version if another transaction changed the row meanwhile.
        .where(recordings.c.id == oldest_due_id(engine, recordings, _due(now)), _due(now))
        .values(
            status=RecordingStatus.FETCHING,
            attempts=recordings.c.attempts + 1,
            next_attempt_at=claim_expires_at(now),
        )
        .returning(
            recordings.c.id, recordings.c.call_id, recordings.c.provider_url, recordings.c.attempts
        )
    )
    with engine.begin() as connection:
        row = connection.execute(claim).first()
        if row is None:
            return None
        call = connection.execute(
            select(calls.c.project_id, calls.c.provider).where(calls.c.id == row.call_id)
        ).one()
    return Claim(
        row.id, row.call_id, call.project_id, call.provider, row.provider_url, row.attempts
    )


def give_up_abandoned(engine: Engine, now: datetime) -> int:
    """Fail recordings whose last allowed try was claimed and never finished."""
    with engine.begin() as connection:
        result = connection.execute(
            update(recordings)
            .where(
                recordings.c.status == RecordingStatus.FETCHING,
                recordings.c.next_attempt_at <= now,
                recordings.c.attempts >= MAX_ATTEMPTS,
            )
            .values(status=RecordingStatus.FAILED, next_attempt_at=None, error=ABANDONED)
        )
    return result.rowcount


def _still_mine(claim: Claim) -> Any:
    return and_(
        recordings.c.id == claim.recording_id,
        recordings.c.status == RecordingStatus.FETCHING,
        recordings.c.attempts == claim.attempts,
    )


def fetch_claimed(
    runtime: Runtime,
    store: RecordingStore,
    http: httpx.Client,
    claim: Claim,
    now: datetime,
) -> FetchOutcome:
    """Download and store one claimed recording and write the outcome onto its row."""
    engine = runtime.engine
    try:
        with runtime.sessions() as db:
            provider, account = account_for_call(db, claim.call_id)
        resolver = resolver_for(provider, runtime.settings)
        hosts = resolver.hosts.with_listed(account.recording_hosts if account else ())
        request = resolver.resolve(claim.provider_url, account, http)
        audio = download_renewing(http, request, hosts=hosts)
    except FetchFailed as exc:
        return _record_failure(engine, claim, str(exc), exc.kind, now)
    except Exception as exc:  # a bug or an odd provider must not stop the worker
        log.exception("fetching recording %s failed unexpectedly", claim.recording_id)
        return _record_failure(engine, claim, f"{type(exc).__name__}: {exc}", _TRANSIENT, now)
    key = recording_key(
        claim.project_id, claim.call_id, claim.recording_id, str(claim.attempts), audio.content_type
    )
    try:
        stored = store.put(key, audio.body, audio.content_type)
    except Exception as exc:
        log.exception("storing recording %s failed", claim.recording_id)
        return _record_failure(engine, claim, f"storage: {exc}", _TRANSIENT, now)
    finally:
        audio.close()
    with engine.begin() as connection:
        result = connection.execute(
            update(recordings)
            .where(_still_mine(claim))
            .values(
                status=RecordingStatus.STORED,
                storage_key=key,
                content_type=audio.content_type,
                size_bytes=stored.size,
                fetched_at=now,
                next_attempt_at=None,
                error=None,
            )
        )
        if result.rowcount == 1 and claim.project_id is not None:  # a CRM gets the link
            note_calls(connection, [CallNote(claim.call_id, claim.project_id, "updated")], now)
    if result.rowcount == 1:
        return FetchOutcome.STORED
    store.delete(key)  # the key is this attempt's own: nobody else's audio lives there
    log.warning("recording %s: claim ran out before it was stored", claim.recording_id)
    return FetchOutcome.LOST


def _record_failure(
    engine: Engine, claim: Claim, message: str, kind: FailureKind, now: datetime
) -> FetchOutcome:
    again = retry_at(claim.attempts, kind, now)
    status = RecordingStatus.PENDING if again is not None else RecordingStatus.FAILED
    with engine.begin() as connection:
        result = connection.execute(
            update(recordings)
            .where(_still_mine(claim))
            .values(status=status, next_attempt_at=again, error=message[:MAX_ERROR_CHARS])
        )
    if result.rowcount != 1:
        return FetchOutcome.LOST
    log.info("recording %s: try %d failed: %s", claim.recording_id, claim.attempts, message)
    return FetchOutcome.RETRY if again is not None else FetchOutcome.FAILED


def fetch_due_recordings(
    runtime: Runtime,
    store: RecordingStore,
    http: httpx.Client,
    now: datetime,
    limit: int = 20,
) -> FetchReport:
    """Fetch up to `limit` due recordings, one claim at a time."""
    engine = runtime.engine
    give_up_abandoned(engine, now)
    counts = dict.fromkeys(FetchOutcome, 0)
    for _ in range(limit):
        claim = claim_next(engine, now)
        if claim is None:
            break
        counts[fetch_claimed(runtime, store, http, claim, now)] += 1
    return FetchReport(
        stored=counts[FetchOutcome.STORED],
        retried=counts[FetchOutcome.RETRY],
        failed=counts[FetchOutcome.FAILED],
        lost=counts[FetchOutcome.LOST],
    )
