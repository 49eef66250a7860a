"""The SIP event consumer: drains Kamailio's durable RabbitMQ queue into call ingestion.

Delivery rules (docs/telephony/sip.md):

- a message is acknowledged only after the transaction holding its events has committed, so
  a crash or restart at any point leaves it in the queue for the next run (redelivery is
  harmless: events are deduplicated by their `dedupe_key`);
- a message that cannot be parsed, or that ingestion refuses for a reason other than the
  database being unreachable, is moved to `<queue>.dead` with the reason in its headers and
  logged, never requeued forever;
- when the database is unreachable the batch is handed back to the queue (nack + requeue)
  and the consumer pauses, with backoff, before trying again: nothing is lost;
- a lost RabbitMQ connection is re-established with backoff; unacknowledged messages go back
  to the queue by themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pika  # type: ignore[import-untyped]
import pika.exceptions  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

from ringtrail.domain.calls import CallEvent
from ringtrail.storage.db import DatabaseUnavailable
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.telephony.sip import parse_sip_event

log = logging.getLogger(__name__)

Ingest = Callable[[Sequence[CallEvent]], object]
"""Stores a batch of events in one transaction; raises when nothing was stored."""

TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    DatabaseUnavailable,
)
"""Failures that mean "the database is not there right now": retry later, never give up."""

ERROR_HEADER = "x-ringtrail-error"


def dead_letter_queue(queue: str) -> str:
    """Where messages that can never be ingested from `queue` are kept for people to look at."""
    return f"{queue}.dead"


def declare_queues(channel: Any, queue: str) -> None:
    """Declare the durable event queue and its dead-letter queue (idempotent)."""
    channel.queue_declare(queue=queue, durable=True)
    channel.queue_declare(queue=dead_letter_queue(queue), durable=True)


@dataclass(frozen=True)
class ConsumerOptions:
    """How the consumer batches, waits and stops."""

    prefetch: int = 200
    batch_size: int = 100
    batch_wait_seconds: float = 0.2
    once: bool = False
    """Exit when the queue is empty instead of waiting for more."""
    idle_exit_seconds: float | None = None
    """Exit after this long without a message (None: run until stopped)."""
    max_batch_age_seconds: float = 1.0
    """A batch is ingested at the latest this long after its first message arrived."""
    min_pause_seconds: float = 1.0
    max_pause_seconds: float = 30.0


@dataclass
class ConsumerStats:
    """What one run did, for logs and tests."""

    messages: int = 0
    events: int = 0
    dead_lettered: int = 0
    requeued: int = 0


class _Ending(Enum):
    DONE = "done"
    RECONNECT = "reconnect"
    DATABASE_DOWN = "database down"


@dataclass(frozen=True)
class _Delivery:
    tag: int
    body: bytes
    properties: Any


@dataclass
class _Outcome:
    ack: list[_Delivery] = field(default_factory=list)
    requeue: list[_Delivery] = field(default_factory=list)
    dead: list[tuple[_Delivery, str]] = field(default_factory=list)


class ConsumerFailed(RuntimeError):
    """A `--once` run could not finish: RabbitMQ or the database is unreachable."""


class SipEventConsumer:
    """Consumes `queue` on the broker at `amqp_url` and hands events to `ingest`."""

    def __init__(
        self,
        amqp_url: str,
        queue: str,
        ingest: Ingest,
        options: ConsumerOptions | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.ingest = ingest
        self.options = options or ConsumerOptions()
        self.stats = ConsumerStats()
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait

    def stop(self) -> None:
        """Ask the loop to finish its batch and return; safe from a signal handler."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> ConsumerStats:
        """Consume until stopped (or, with `once` / `idle_exit_seconds`, until done)."""
        pause = self.options.min_pause_seconds
        db_pause = self.options.min_pause_seconds
        while not self.stopping:
            try:
                connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
            except pika.exceptions.AMQPError as exc:
                if self.options.once:
                    raise ConsumerFailed(f"RabbitMQ unreachable: {_describe(exc)}") from exc
                log.warning("RabbitMQ unreachable (%s); retrying in %.0fs", _describe(exc), pause)
                self._sleep(pause)
                pause = min(pause * 2, self.options.max_pause_seconds)
                continue
            pause = self.options.min_pause_seconds
            try:
                ending = self._consume(connection)
            except pika.exceptions.AMQPError as exc:
                if self.options.once:
                    raise ConsumerFailed(f"RabbitMQ connection lost: {_describe(exc)}") from exc
                log.warning("RabbitMQ connection lost (%s); reconnecting", _describe(exc))
                ending = _Ending.RECONNECT
                self._sleep(pause)
            finally:
                _close_quietly(connection)
            if ending is _Ending.DONE:
                break
            if ending is _Ending.DATABASE_DOWN:
                if self.options.once:
                    raise ConsumerFailed("the database is unreachable; the events stay queued")
                log.warning("database unavailable; retrying in %.0fs", db_pause)
                self._sleep(db_pause)
                db_pause = min(db_pause * 2, self.options.max_pause_seconds)
            else:
                db_pause = self.options.min_pause_seconds
        return self.stats

    def _consume(self, connection: Any) -> _Ending:
        """Consume on one connection until done, stopped, or the database fails."""
        channel = connection.channel()
        declare_queues(channel, self.queue)
        channel.confirm_delivery()
        channel.basic_qos(prefetch_count=self.options.prefetch)
        log.info("consuming SIP call events from queue %s", self.queue)
        batch: list[_Delivery] = []
        batch_started = idle_since = time.monotonic()
        for method, properties, body in channel.consume(
            self.queue, inactivity_timeout=self.options.batch_wait_seconds
        ):
            now = time.monotonic()
            if method is not None:
                if not batch:
                    batch_started = now
                batch.append(_Delivery(method.delivery_tag, body, properties))
                idle_since = now
                if (
                    len(batch) < self.options.batch_size
                    and now - batch_started < self.options.max_batch_age_seconds
                    and not self.stopping
                ):
                    continue
            if batch:
                outcome = self._process(batch)
                self._settle(channel, outcome)
                batch = []
                if outcome.requeue:
                    channel.cancel()
                    return _Ending.DATABASE_DOWN
                if self.stopping:
                    channel.cancel()
                    return _Ending.DONE
                continue
            if self.stopping or self._finished(channel, idle_since):
                channel.cancel()
                return _Ending.DONE
        return _Ending.DONE if self.stopping else _Ending.RECONNECT

    def _finished(self, channel: Any, idle_since: float) -> bool:
        idle_exit = self.options.idle_exit_seconds
        if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
            log.info("no SIP call events for %.0fs; exiting", idle_exit)
            return True
        if self.options.once:
            waiting = channel.queue_declare(queue=self.queue, passive=True).method.message_count
            return bool(waiting == 0)
        return False

    def _process(self, batch: Sequence[_Delivery]) -> _Outcome:
        """Parse and ingest one batch; decides what becomes of each message."""
        outcome = _Outcome()
        parsed: list[tuple[_Delivery, list[CallEvent]]] = []
        for delivery in batch:
            try:
                parsed.append((delivery, parse_sip_event(delivery.body)))
            except InvalidPayload as exc:
                outcome.dead.append((delivery, f"invalid payload: {exc}"))
        if not parsed:
            return outcome
        try:
            self.ingest(_distinct(events for _, events in parsed))
        except TRANSIENT_DB_ERRORS:
            outcome.requeue.extend(delivery for delivery, _ in parsed)
            return outcome
        except Exception:
            log.warning("a batch of %d message(s) failed; retrying one by one", len(parsed))
            self._one_by_one(parsed, outcome)
            return outcome
        outcome.ack.extend(delivery for delivery, _ in parsed)
        self.stats.events += sum(len(events) for _, events in parsed)
        return outcome

    def _one_by_one(
        self, parsed: Sequence[tuple[_Delivery, list[CallEvent]]], outcome: _Outcome
    ) -> None:
        for index, (delivery, events) in enumerate(parsed):
            for attempt in (1, 2):  # a second try rides out a race with another consumer
                try:
                    self.ingest(events)
                except TRANSIENT_DB_ERRORS:
                    outcome.requeue.extend(d for d, _ in parsed[index:])
                    return
                except Exception as exc:
                    if attempt == 1:
                        continue
                    log.exception("ingestion refused a SIP event message")
                    reason = f"ingestion failed: {type(exc).__name__}: {exc}"
                    outcome.dead.append((delivery, reason))
                else:
                    outcome.ack.append(delivery)
                    self.stats.events += len(events)
                break

    def _settle(self, channel: Any, outcome: _Outcome) -> None:
        """Dead-letter, acknowledge and requeue: in that order, each message exactly once."""
        for delivery, reason in outcome.dead:
            log.error(
                "SIP event message moved to %s: %s; body: %r",
                dead_letter_queue(self.queue),
                reason,
                delivery.body[:500],
            )
            headers = dict(getattr(delivery.properties, "headers", None) or {})
            headers[ERROR_HEADER] = reason[:1000]
            channel.basic_publish(
                exchange="",
                routing_key=dead_letter_queue(self.queue),
                body=delivery.body,
                mandatory=True,
                properties=pika.BasicProperties(
                    content_type=getattr(delivery.properties, "content_type", None),
                    delivery_mode=pika.DeliveryMode.Persistent,
                    headers=headers,
                ),
            )
            channel.basic_ack(delivery_tag=delivery.tag)
        for delivery in outcome.ack:
            channel.basic_ack(delivery_tag=delivery.tag)
        for delivery in outcome.requeue:
            channel.basic_nack(delivery_tag=delivery.tag, requeue=True)
        self.stats.messages += len(outcome.ack) + len(outcome.dead)
        self.stats.dead_lettered += len(outcome.dead)
        self.stats.requeued += len(outcome.requeue)
        if outcome.ack:
            log.info("ingested %d SIP event message(s)", len(outcome.ack))


def _distinct(groups: Iterable[list[CallEvent]]) -> list[CallEvent]:
    """Events in order, each dedupe_key once (a message redelivered within one batch)."""
    seen: set[str] = set()
    events: list[CallEvent] = []
    for group in groups:
        for event in group:
            if event.dedupe_key not in seen:
                seen.add(event.dedupe_key)
                events.append(event)
    return events


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or repr(exc)
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def _close_quietly(connection: Any) -> None:
    try:
        if connection.is_open:
            connection.close()
    except pika.exceptions.AMQPError:
        pass
