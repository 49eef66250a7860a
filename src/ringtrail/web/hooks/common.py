"""What every provider webhook shares: reading its input safely and handing events to ingestion.

Input is checked in one place for every provider: a form's fields and the URL's project key
must be text the databases can hold (`read_form`, `PublicKey`), and the events a parser makes
must have moments, durations and text that storage and date arithmetic can take
(`parse_events`). What fails is InvalidPayload, a 4xx with the reason: a provider retries a
5xx forever. The body's size is limited before any of this (web.body_limit).

A database that is down raises OperationalError, which the app's error handlers turn into
503 with Retry-After, so the provider delivers the event again later; the batch is one
transaction, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Path, Request
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.calls import CallEvent
from ringtrail.domain.input_checks import UnusableInput, check_json, check_moment, check_text
from ringtrail.services.call_ingestion import CallIngestion, IngestResult
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.web.deps import get_runtime

MAX_CALL_SECONDS = 7 * 24 * 3600
"""The longest duration an event may carry (the signed webhook's own bound)."""


def _storable(text: str) -> str:
    try:
        return check_text(text)
    except UnusableInput as exc:
        raise ValueError(exc.problem) from None


PublicKey = Annotated[
    str,
    Path(min_length=1, max_length=64, description="The project's key"),
    AfterValidator(_storable),
]


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The body's form fields in order; InvalidPayload for a bad form, a file or a NUL."""
    try:
        form = await request.form()
    except Exception as exc:  # malformed multipart or too many fields
        raise InvalidPayload(f"the body is not a form: {exc}") from None
    pairs = []
    for name, value in form.multi_items():
        if not isinstance(value, str):
            raise InvalidPayload(f"field {name!r} is a file")
        try:
            check_text(name, ("field name",))
            check_text(value, (name,))
        except UnusableInput as exc:
            raise InvalidPayload(str(exc)) from None
        pairs.append((name, value))
    return pairs


def parse_events(parse: Callable[[], Sequence[CallEvent]]) -> list[CallEvent]:
    """Run a provider's parser and check its events; InvalidPayload for what cannot be stored."""
    try:
        events = list(parse())
    except InvalidPayload:
        raise
    except (OverflowError, ValueError) as exc:
        # Parsers compute with what the provider sent: a date pushed past year 9999 by a time
        # zone or a duration, or a number of thousands of digits, fails here, not in a 500.
        raise InvalidPayload(f"a date or number is out of range: {exc}") from None
    for index, event in enumerate(events):
        try:
            check_event(event)
        except UnusableInput as exc:
            where = f"event {index + 1} " if len(events) > 1 else ""
            raise InvalidPayload(f"{where}{exc}") from None
    return events


def check_event(event: CallEvent) -> None:
    """Refuse (UnusableInput) an event with a moment, duration or text storage cannot take."""
    check_moment(event.occurred_at, ("occurred_at",))
    for name in ("total_seconds", "talk_seconds", "recording_duration"):
        seconds = getattr(event, name)
        if seconds is not None and not 0 <= seconds <= MAX_CALL_SECONDS:
            raise UnusableInput((name,), f"{seconds} is not between 0 and {MAX_CALL_SECONDS}")
    for name in (
        "provider_call_id",
        "dedupe_key",
        "dialled",
        "caller",
        "forwarded_to",
        "recording_url",
    ):
        text = getattr(event, name)
        if text is not None:
            check_text(text, (name,))
    check_json(dict(event.payload), ())


async def ingest_events(
    request: Request, events: Sequence[CallEvent], *, project_id: int | None = None
) -> list[IngestResult]:
    """Store and process `events` in one transaction, in a worker thread."""
    ingestion = CallIngestion(get_runtime(request).sessions)
    return await run_in_threadpool(ingestion.ingest_many, events, project_id=project_id)
