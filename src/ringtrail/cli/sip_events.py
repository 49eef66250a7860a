"""`ringtrail sip-events`: consume Kamailio's SIP call events from RabbitMQ into the database."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ringtrail.cli.context import load_settings, open_runtime
from ringtrail.cli.errors import CliError, usage_error
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.settings import Settings
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.telephony.sip import parse_sip_event, unsent_messages
from ringtrail.telephony.sip_consumer import ConsumerFailed, ConsumerOptions, SipEventConsumer

log = logging.getLogger("ringtrail.sip_events")


def sip_events(
    amqp_url: Annotated[
        str | None, typer.Option(help="RabbitMQ URL (RINGTRAIL_AMQP_URL).", show_default=False)
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option(help="Queue to consume (RINGTRAIL_SIP_EVENTS_QUEUE).", show_default=False),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Ingest what is queued now, then exit.")
    ] = False,
    idle_exit_seconds: Annotated[
        float | None,
        typer.Option(min=0, help="Exit after this many seconds without an event."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            help="Ingest the events Kamailio logged as unsent in this log file ('-' for "
            "stdin), then exit; RabbitMQ is not used.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Consume SIP call events published by deploy/kamailio into the database."""
    overrides: dict[str, object] = {}
    if amqp_url is not None:
        overrides["amqp_url"] = amqp_url
    if queue is not None:
        overrides["sip_events_queue"] = queue
    settings = load_settings(**overrides)
    _configure_logging(settings)
    if replay is not None:
        with open_runtime(settings) as runtime:
            _replay(runtime, replay)
        return
    if not settings.amqp_url:
        raise usage_error("no RabbitMQ URL: set RINGTRAIL_AMQP_URL or pass --amqp-url")
    if not settings.sip_events_queue:
        raise usage_error("no queue name: set RINGTRAIL_SIP_EVENTS_QUEUE or pass --queue")
    with open_runtime(settings) as runtime:
        ingestion = CallIngestion(runtime.sessions)
        consumer = SipEventConsumer(
            settings.amqp_url,
            settings.sip_events_queue,
            lambda events: ingestion.ingest_many(events),
            ConsumerOptions(once=once, idle_exit_seconds=idle_exit_seconds),
        )
        with _stop_on_signals(consumer.stop):
            try:
                stats = consumer.run()
            except ConsumerFailed as exc:
                raise CliError(str(exc)) from exc
    typer.echo(
        f"sip-events: {stats.messages} message(s), {stats.events} event(s) ingested, "
        f"{stats.dead_lettered} dead-lettered",
        err=True,
    )


def _replay(runtime: Runtime, source: Path) -> None:
    if str(source) == "-":
        lines = list(sys.stdin)
    else:
        with source.open(encoding="utf-8", errors="replace") as handle:
            lines = list(handle)
    events = []
    unreadable = 0
    for message in unsent_messages(lines):
        try:
            events.extend(parse_sip_event(message))
        except InvalidPayload as exc:
            unreadable += 1
            log.error("unreadable unsent SIP event (%s): %s", exc, message[:500])
    if events:
        CallIngestion(runtime.sessions).ingest_many(events)
    typer.echo(f"replayed {len(events)} event(s); {unreadable} unreadable", err=True)
    if unreadable:
        raise CliError(f"{unreadable} logged event(s) could not be read; see the log above")


def _configure_logging(settings: Settings) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM and SIGINT ask the consumer to finish its batch and return."""

    def handler(signum: int, frame: object) -> None:
        log.info("signal %d received; stopping after the current batch", signum)
        stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
