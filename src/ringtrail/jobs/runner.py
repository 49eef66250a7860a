"""Runs the jobs: one pass (`run_due_jobs`), a loop (`JobWorker`), or a thread for `serve`.

Every job claims its work atomically in the database, so any number of passes may run at
once, in one process or many: `ringtrail worker` processes, `serve` threads, or both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from ringtrail.jobs.deliveries import DeliveryJobReport, run_deliveries
from ringtrail.jobs.recording_fetch import FetchReport, fetch_client, fetch_due_recordings
from ringtrail.jobs.report_rollups import RollupReport, refresh_report_rollups
from ringtrail.jobs.retention import RetentionReport, enforce_retention
from ringtrail.jobs.scoring import SCORE_LIMIT, ScoringReport, score_and_retrain
from ringtrail.jobs.transcription import TranscriptionReport, transcribe_due
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.services.callback_calls import PlaceReport, place_due_callbacks
from ringtrail.services.webhook_spool import spool_for
from ringtrail.storage.models.base import utcnow
from ringtrail.telephony.twilio_outbound import OutboundCaller, TwilioRestCaller

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 30.0
FETCH_LIMIT = 20
RETENTION_LIMIT = 500
ROLLUP_LIMIT = 50
TRANSCRIBE_LIMIT = 2  # transcribing is slow: a few per pass, the other jobs between


@dataclass(frozen=True)
class JobReport:
    """What one pass did; `busy` when a job stopped at its limit with more work waiting."""

    fetch: FetchReport
    deleted: int
    busy: bool
    rollups: RollupReport = field(default_factory=lambda: RollupReport(days=0, visit_days=0))
    retention: RetentionReport = field(default_factory=RetentionReport)
    replayed: int = 0  # spooled webhook requests ingested late (services.webhook_spool)
    callbacks: PlaceReport = field(default_factory=PlaceReport)
    deliveries: DeliveryJobReport | None = None  # jobs.deliveries
    scoring: ScoringReport = field(default_factory=ScoringReport)  # jobs.scoring
    transcription: TranscriptionReport = field(default_factory=TranscriptionReport)


def run_due_jobs(
    runtime: Runtime,
    now: datetime,
    *,
    store: RecordingStore | None = None,
    http: httpx.Client | None = None,
    fetch_limit: int = FETCH_LIMIT,
    retention_limit: int = RETENTION_LIMIT,
    rollup_limit: int = ROLLUP_LIMIT,
    caller: OutboundCaller | None = None,
    transcribe_limit: int = TRANSCRIBE_LIMIT,
) -> JobReport:
    """One pass of every job as of `now`: retention, recording fetches, spooled webhook
    requests left behind, report rollups, callback calls due (services.callback_calls),
    transcription of stored recordings (jobs.transcription).

    `deleted` counts the recordings retention deleted; `retention` has the rest."""
    store = store or make_store(runtime.settings)
    client = http or fetch_client(runtime)
    try:
        retention = enforce_retention(runtime.engine, store, now, retention_limit)
        fetch = fetch_due_recordings(runtime, store, client, now, fetch_limit)
    finally:
        if http is None:
            client.close()
    replayed = spool_for(runtime).replay(now)
    rollups = refresh_report_rollups(runtime.sessions, now, limit=rollup_limit)
    callbacks = place_due_callbacks(
        runtime.sessions,
        caller or TwilioRestCaller(runtime.settings.twilio_api_base_url),
        runtime.settings.public_url,
        now,
    )
    transcription = transcribe_due(runtime, now, store=store, limit=transcribe_limit)
    scoring = score_and_retrain(runtime.sessions, now)
    deliveries = run_deliveries(runtime, now)
    deleted = retention.recordings
    busy = (
        deliveries.busy
        or retention.busy
        or fetch.claimed >= fetch_limit
        or rollups.days >= rollup_limit
        or rollups.visit_days > 0
        or scoring.judged >= SCORE_LIMIT
        or transcription.done + transcription.failed >= transcribe_limit
    )
    return JobReport(
        fetch=fetch,
        deleted=deleted,
        busy=busy,
        rollups=rollups,
        retention=retention,
        replayed=replayed,
        callbacks=callbacks,
        deliveries=deliveries,
        scoring=scoring,
        transcription=transcription,
    )


class JobWorker:
    """Runs passes until stopped: at once again while busy, else after `interval` seconds.

    A pass that fails (database down, store unreachable) is logged and the loop goes on.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        store: RecordingStore | None = None,
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.clock = clock
        self.store = store

    def run_pass(self, http: httpx.Client | None = None) -> JobReport | None:
        """One pass now; None when it failed (the error is logged)."""
        try:
            if self.store is None:
                self.store = make_store(self.runtime.settings)
            report = run_due_jobs(self.runtime, self.clock(), store=self.store, http=http)
        except Exception:
            log.exception("a background job pass failed; trying again in %.0f s", self.interval)
            return None
        if report.fetch.claimed or report.deleted:
            log.info(
                "jobs: %d recordings stored, %d to retry, %d failed, %d deleted by retention",
                report.fetch.stored,
                report.fetch.retried,
                report.fetch.failed,
                report.deleted,
            )
        if report.transcription.claimed:
            log.info(
                "jobs: %d transcript(s) done, %d to retry, %d failed %s",
                report.transcription.done,
                report.transcription.retried,
                report.transcription.failed,
                report.transcription.model_error or "",
            )
        sent = report.deliveries.report if report.deliveries else None
        if sent is not None and sent.claimed:
            log.info(
                "jobs: deliveries %d accepted, %d to retry, %d rejected, %d skipped, %d dead",
                sent.accepted,
                sent.retried,
                sent.rejected,
                sent.skipped,
                sent.dead,
            )
        kept = report.retention
        if kept.transcripts or kept.calls or kept.visits or kept.visitors:
            log.info(
                "jobs: retention deleted %d call(s), %d visit(s), %d visitor(s)"
                " and cleared %d transcript(s)",
                kept.calls,
                kept.visits,
                kept.visitors,
                kept.transcripts,
            )
        if report.rollups.days or report.rollups.visit_days or report.rollups.months:
            log.info(
                "jobs: report rollups rebuilt for %d day(s) and %d month(s),"
                " visits rolled up for %d day(s)",
                report.rollups.days,
                report.rollups.months,
                report.rollups.visit_days,
            )
        return report

    def run(self, stop: threading.Event) -> None:
        """Run passes until `stop` is set."""
        with fetch_client(self.runtime) as http:
            while not stop.is_set():
                report = self.run_pass(http)
                if report is None or not report.busy:
                    stop.wait(self.interval)


class BackgroundJobs:
    """A `JobWorker` in a daemon thread: the web app starts it with `serve` and stops it."""

    def __init__(self, runtime: Runtime, *, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self.worker = JobWorker(runtime, interval=interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self.worker.run, args=(self._stop,), name="ringtrail-jobs", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait up to `timeout` seconds for the current pass.

        A download cut short by shutdown is not lost: its claim runs out and it is retried.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
