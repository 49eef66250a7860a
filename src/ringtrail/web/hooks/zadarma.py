"""Zadarma's PBX notifications at /hooks/zadarma/{public_key}: URL check, signature, ingestion.

`GET ?zd_echo=X` answers the bare X, which is how Zadarma checks a URL before saving it.
`POST` is a notification form: refused (403) when the project has no active Zadarma account
with an API secret or when `Signature` does not match, 400 with the reason when malformed,
otherwise ingested for that project. Internal, IVR and outgoing-call notifications are
answered 200 and dropped. The body of every 200 is empty: Zadarma reads a NOTIFY_START answer
as routing instructions, and Ringtrail routes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from ringtrail.services.telephony_accounts import account_of_project, project_by_public_key
from ringtrail.telephony import zadarma
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
    if events:
        await ingest_events(request, events, project_id=target.project_id)
    return Response(status_code=200)


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values
