"""`ringtrail worker`: run the background jobs (recordings, retention, rollups) until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from ringtrail.cli.context import load_settings, open_runtime
from ringtrail.cli.errors import CliError
from ringtrail.jobs.runner import DEFAULT_INTERVAL_SECONDS, JobReport, JobWorker, run_due_jobs
from ringtrail.recordings.storage import StoreUnavailable
from ringtrail.settings import Settings
from ringtrail.storage.models.base import utcnow

log = logging.getLogger("ringtrail.worker")


def worker(
    interval: Annotated[
        float,
        typer.Option(min=1, help="Seconds to wait between passes when no work is waiting."),
    ] = DEFAULT_INTERVAL_SECONDS,
    once: Annotated[
        bool, typer.Option("--once", help="Run one pass of every job, report it, then exit.")
    ] = False,
) -> None:
    """Run the background jobs: recording fetches with retries, retention, report rollups."""
    settings = load_settings()
    _configure_logging(settings)
    with open_runtime(settings) as runtime:
        if once:
            try:
                report = run_due_jobs(runtime, utcnow())
            except StoreUnavailable as exc:
                raise CliError(str(exc)) from exc
            typer.echo(_summary(report), err=True)
            return
        stop = threading.Event()
        typer.echo(f"ringtrail worker: running jobs every {interval:g} s", err=True)
        with _stop_on_signals(stop):
            JobWorker(runtime, interval=interval).run(stop)
        typer.echo("ringtrail worker: stopped", err=True)


def _summary(report: JobReport) -> str:
    fetch = report.fetch
    return (
        f"worker: {fetch.stored} recording(s) stored, {fetch.retried} to retry, "
        f"{fetch.failed} failed, {report.deleted} deleted by retention, "
        f"report rollups rebuilt for {report.rollups.days} day(s) and "
        f"{report.rollups.months} month(s), visits rolled up for "
        f"{report.rollups.visit_days} day(s)" + _quality_and_deliveries(report)
    )


def _quality_and_deliveries(report: JobReport) -> str:
    speech, scoring = report.transcription, report.scoring
    text = (
        f", {speech.done} transcript(s) done, {speech.retried} to retry, {speech.failed} failed"
        f"{f' ({speech.model_error})' if speech.model_error else ''}, "
        f"{scoring.judged} call(s) judged by the model ({scoring.marked} marked), "
        f"{scoring.trained} model(s) trained"
    )
    if report.deliveries is not None:
        sent = report.deliveries.report
        text += (
            f", deliveries: {sent.accepted} accepted, {sent.rejected} rejected, "
            f"{sent.retried} to retry, {sent.skipped} skipped, {sent.dead} dead"
        )
    return text


def _configure_logging(settings: Settings) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT let the current pass finish, then the loop ends."""

    def handler(signum: int, frame: object) -> None:
        log.info("signal %d received; stopping after the current pass", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
