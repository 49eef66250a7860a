"""Zadarma's PBX notifications at /hooks/zadarma/{public_key}: URL check, signature, ingestion.

`GET ?zd_echo=X` answers the bare X, which is how Zadarma checks a URL before saving it.
`POST` is a notification form: refused (403) when the project has no active Zadarma account
with an API secret, when `Signature` does not match, or (with RINGTRAIL_ZADARMA_CHECK_SENDER)
when the sender is not Zadarma's address; 400 with the reason when malformed; otherwise
ingested for that project. Internal, IVR and outgoing-call notifications are answered 200 and
dropped. The body of every 200 is empty: Zadarma reads a NOTIFY_START answer as routing
instructions, and Ringtrail routes nothing.

Zadarma waits on the NOTIFY_START answer to route the call, so that notification is kept in
the host's spool (services.webhook_spool: a file on local disk, flushed) and answered at
once; it is ingested after the answer has left, and replayed later if that fails. Replayed
notifications (services.zadarma_replays) are refused or ignored and logged, as are senders
refused by the address check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.calls import CallEvent
from ringtrail.services.telephony_accounts import account_of_project, project_by_public_key
from ringtrail.services.webhook_refusals import WebhookRefusalReason, note_webhook_refusal
from ringtrail.services.webhook_spool import spool_for
from ringtrail.services.zadarma_replays import end_differs, other_call_with_same_signature
from ringtrail.storage.models.base import utcnow
from ringtrail.telephony import zadarma
from ringtrail.telephony.binotel import address_allowed, sender_address
from ringtrail.telephony.errors import BadSignature, InvalidPayload
from ringtrail.web.deps import get_runtime
from ringtrail.web.hooks.common import PublicKey, ingest_events, parse_events, read_form

router = APIRouter(prefix="/zadarma")
log = logging.getLogger(__name__)

MAX_ECHO_LENGTH = 256


@dataclass(frozen=True)
class ZadarmaTarget:
    """What a notification needs to know about the project its URL names."""

    project_id: int
    project_timezone: str
    secret: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    has_account: bool = False


def _find_target(request: Request, public_key: str) -> ZadarmaTarget | None:
    with get_runtime(request).sessions() as db:
        project = project_by_public_key(db, public_key)
        if project is None:
            return None
        account = account_of_project(db, project, zadarma.PROVIDER)
        if account is None:
            return ZadarmaTarget(project.id, project.timezone)
        return ZadarmaTarget(
            project.id,
            project.timezone,
            secret=account.secret,
            config=dict(account.config or {}),
            has_account=True,
        )


def pbx_timezone(target: ZadarmaTarget) -> ZoneInfo:
    """The account's `timezone` setting, else the project's (call_start is PBX local time)."""
    for name in (target.config.get("timezone"), target.project_timezone, "UTC"):
        if not isinstance(name, str) or not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning(
                "Zadarma account of project %s: unknown time zone %r", target.project_id, name
            )
    return ZoneInfo("UTC")


def _refused(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


@router.get("/{public_key}", response_class=PlainTextResponse)
async def zadarma_echo(request: Request, public_key: PublicKey) -> Response:
    """Zadarma's URL check: echo `zd_echo` back as plain text."""
    echo = request.query_params.get("zd_echo")
    if echo is None:
        return _refused(400, "zd_echo is missing: Zadarma notifications are POSTed")
    if len(echo) > MAX_ECHO_LENGTH:
        return _refused(400, f"zd_echo is longer than {MAX_ECHO_LENGTH} characters")
    if await run_in_threadpool(_find_target, request, public_key) is None:
        return _refused(404, "unknown project")
    return PlainTextResponse(echo, headers={"X-Content-Type-Options": "nosniff"})


@router.post("/{public_key}")
async def zadarma_notification(request: Request, public_key: PublicKey) -> Response:
    """One PBX notification: verify, turn into call events, ingest."""
    target = await run_in_threadpool(_find_target, request, public_key)
    if target is None:
        return _refused(404, "unknown project")
    if not target.has_account or not target.secret:
        return _refused(403, "no Zadarma account with an API secret is set up for this project")
    sender = _sender(request, target)
    if not _sender_allowed(request, sender):
        reason = f"address {sender} is not one of Zadarma's (RINGTRAIL_ZADARMA_CHECK_SENDER)"
        await run_in_threadpool(
            _note_refusal, request, target.project_id, sender, reason, REFUSED_SENDER
        )
        return _refused(403, reason)
    try:
        form = _first_values(await read_form(request))
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    event = form.get("event", "")
    if not event:
        return _refused(400, "the event field is missing")
    if event not in zadarma.HANDLED_EVENTS:
        return Response(status_code=200)
    try:
        zadarma.verify_signature(form, request.headers.get("Signature"), target.secret)
        events = parse_events(
            lambda: zadarma.parse_notification(
                form, timezone=pbx_timezone(target), received_at=datetime.now(UTC)
            )
        )
    except BadSignature as exc:
        return _refused(403, str(exc))
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    if event == zadarma.NOTIFY_START and events:
        return await _answer_then_ingest(request, target, events, sender)
    if event == zadarma.NOTIFY_END and events:
        replay = await run_in_threadpool(_end_replay, request, target, form, events[0])
        if replay is not None:
            await run_in_threadpool(
                _note_refusal, request, target.project_id, sender, replay.reason, REPLAYED
            )
            if replay.refuse:
                return _refused(403, replay.reason)
            return Response(status_code=200)  # the first NOTIFY_END of the call stands
    if events:
        await ingest_events(request, events, project_id=target.project_id)
    return Response(status_code=200)


REFUSED_SENDER = WebhookRefusalReason.SENDER_NOT_ALLOWED
REPLAYED = WebhookRefusalReason.REPLAYED_NOTIFICATION


@dataclass(frozen=True)
class Replay:
    """A notification recognised as sent again: refused (403), or ignored with a 200."""

    reason: str
    refuse: bool


def _sender(request: Request, target: ZadarmaTarget) -> str:
    peer = request.client.host if request.client else ""
    proxies = target.config.get("trusted_proxies")
    trusted = [str(entry) for entry in proxies] if isinstance(proxies, list) else []
    return sender_address(peer, request.headers.get("X-Forwarded-For"), trusted)


def _sender_allowed(request: Request, sender: str) -> bool:
    settings = get_runtime(request).settings
    if not settings.zadarma_check_sender:
        return True
    extra = [str(network) for network in settings.zadarma_sender_addresses]
    return address_allowed(sender, [*zadarma.SERVER_ADDRESSES, *extra])


def _note_refusal(
    request: Request,
    project_id: int,
    sender: str,
    detail: str,
    reason: WebhookRefusalReason,
) -> None:
    note_webhook_refusal(
        get_runtime(request).engine,
        project_id=project_id,
        provider=zadarma.PROVIDER,
        reason=reason,
        address=sender,
        detail=detail,
        now=utcnow(),
    )


def _end_replay(
    request: Request, target: ZadarmaTarget, form: dict[str, str], end: CallEvent
) -> Replay | None:
    pbx_call_id = end.provider_call_id
    call_start = end.occurred_at - timedelta(seconds=end.total_seconds or 0)
    with get_runtime(request).sessions() as db:
        other = other_call_with_same_signature(
            db,
            project_id=target.project_id,
            pbx_call_id=pbx_call_id,
            form=form,
            call_start=call_start,
        )
        if other is not None:
            return Replay(f"NOTIFY_END of call {other} sent again as call {pbx_call_id}", True)
        if end_differs(db, pbx_call_id=pbx_call_id, form=form):
            return Replay(
                f"NOTIFY_END of call {pbx_call_id} sent again with other duration or "
                "disposition; the first one is kept",
                False,
            )
    return None


async def _answer_then_ingest(
    request: Request, target: ZadarmaTarget, events: list[CallEvent], sender: str
) -> Response:
    """Keep the events on disk, answer now, ingest once the answer has left."""
    spool = spool_for(get_runtime(request))
    try:
        kept = await run_in_threadpool(
            spool.keep, events, project_id=target.project_id, sender=sender
        )
    except OSError:
        log.warning("the webhook spool refused a write; ingesting before answering", exc_info=True)
        await ingest_events(request, events, project_id=target.project_id)
        return Response(status_code=200)
    return Response(status_code=200, background=BackgroundTask(spool.ingest_kept, kept))


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values
