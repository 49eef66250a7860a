"""The contract between the delivery machinery and one destination (GA4, Meta, a CRM...).

A destination is pure about *what* to send (`prepare`: facts in, a payload or a reason to
skip out) and thin about *how* (`send`: one HTTP exchange, its answer classified). It never
touches the database, the queue or the clock beyond what it is given: retries, idempotency,
ordering and the log are the delivery service's job, so every destination gets them alike.

The facts and conversion values live in `ringtrail.domain.conversions` (pure, so the
conversion rules can use them) and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol

import httpx
from pydantic import BaseModel

from ringtrail.domain.conversions import (
    Conversion,
    ConversionFacts,
    OnChange,
    Skip,
    VisitFacts,
)

__all__ = [
    "Conversion",
    "ConversionFacts",
    "Destination",
    "OnChange",
    "Outcome",
    "Prepared",
    "SendResult",
    "Skip",
    "VisitFacts",
]

Outcome = Literal["accepted", "rejected", "retry"]
"""accepted: the destination took it; rejected: it refused for good (a 4xx; never retried);
retry: try again later (5xx, timeout, rate limit)."""


@dataclass(frozen=True)
class Prepared:
    """The message to send. `dedupe_key` is the destination's own idempotency key
    (transaction_id, event_id, order_id...), stable across retries."""

    payload: dict[str, Any]
    dedupe_key: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status_code: int | None
    response: dict[str, Any]
    reason: str = ""  # words a marketer understands when not accepted
    retry_after_seconds: float | None = None


class Destination(Protocol):
    """One kind of destination. Implementations are module-level singletons named
    `DESTINATION` in `ringtrail.integrations.<kind>`."""

    kind: ClassVar[str]
    label: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[frozenset[str]]  # config fields masked in the log and encrypted
    on_change: ClassVar[OnChange]
    # Optional: `events: ClassVar[frozenset[str]]`, the event families a destination wants:
    # "conversion" (one per counted call or lead, plus updates by rule), "call"
    # (call.started, call.ended, call.updated.N, in order) and "lead" (lead.created).
    # Without it a destination gets "conversion" only (services.deliveries.enqueue).
    # `prepare` must derive `dedupe_key` from the subject and event alone, never from the
    # time or changing facts: a send retried after a crash must carry the same key.

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip: ...

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult: ...

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        """The payload as the delivery log shows it: secrets and personal data masked."""
        ...
