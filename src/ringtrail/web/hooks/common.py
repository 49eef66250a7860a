"""What every provider webhook shares: handing events to ingestion off the event loop.

A database that is down raises OperationalError, which the app's error handlers turn into
503 with Retry-After, so the provider delivers the event again later; the batch is one
transaction, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.calls import CallEvent
from ringtrail.services.call_ingestion import CallIngestion, IngestResult
from ringtrail.web.deps import get_runtime


async def ingest_events(
    request: Request, events: Sequence[CallEvent], *, project_id: int | None = None
) -> list[IngestResult]:
    """Store and process `events` in one transaction, in a worker thread."""
    ingestion = CallIngestion(get_runtime(request).sessions)
    return await run_in_threadpool(ingestion.ingest_many, events, project_id=project_id)
