"""Call ingestion: normalised call events in, one attributed call per provider call out.

(Being written: the signature below is the contract adapters code against.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ringtrail.domain.calls import CallEvent
from ringtrail.storage.models.base import utcnow


@dataclass(frozen=True)
class IngestResult:
    """What became of one event: the call it belongs to, and whether it was a redelivery."""

    call_id: int | None
    project_id: int | None
    duplicate: bool


class CallIngestion:
    """Stores events, rebuilds their call, attributes it. One transaction per `ingest` call.

    `project_id` is given when the webhook already proves the project (a signed webhook
    URL); otherwise the project is the one owning the dialled number. An event whose number
    is unknown is still stored, on an unattributed call.
    Database errors propagate (the web layer answers 503 so the provider retries); nothing is
    half-written because the whole batch is one transaction.
    """

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    def ingest(self, event: CallEvent, *, project_id: int | None = None) -> IngestResult:
        """Ingest one event."""
        return self.ingest_many([event], project_id=project_id)[0]

    def ingest_many(
        self, events: Sequence[CallEvent], *, project_id: int | None = None
    ) -> list[IngestResult]:
        """Ingest events in one transaction, in order; results match `events` one for one."""
        raise NotImplementedError
