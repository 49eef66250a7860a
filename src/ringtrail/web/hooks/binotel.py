"""Binotel's API CALL COMPLETED at /hooks/binotel/{public_key}: sender address, parse, ingest.

Binotel signs nothing, so the sender's address is the only proof: it must be one of Binotel's
servers (`binotel.SERVER_ADDRESSES`), one the operator adds (RINGTRAIL_BINOTEL_SENDER_ADDRESSES)
or one in the account's `config["allowed_ips"]` (addresses or networks). A refused sender is
noted in the webhook refusal log, which the dashboard's refusals page shows, so a server
Binotel added is seen before its retries run out. `X-Forwarded-For` is believed only when the
connection comes from an address in `config["trusted_proxies"]`. Every accepted request,
ignored types and outbound calls included, is answered `{"status":"success"}`, or Binotel
delivers it again (up to six tries); a malformed one gets 400 with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ringtrail.services.telephony_accounts import account_of_project, project_by_public_key
from ringtrail.services.webhook_refusals import WebhookRefusalReason, note_webhook_refusal
from ringtrail.storage.models.base import utcnow
from ringtrail.telephony import binotel
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.web.deps import get_runtime
from ringtrail.web.hooks.common import PublicKey, ingest_events, parse_events, read_form

router = APIRouter(prefix="/binotel")

SUCCESS = {"status": "success"}


@dataclass(frozen=True)
class BinotelTarget:
    """What a request needs to know about the project its URL names."""

    project_id: int
    has_account: bool = False
    allowed_ips: list[str] = field(default_factory=list)
    trusted_proxies: list[str] = field(default_factory=list)


def _find_target(request: Request, public_key: str) -> BinotelTarget | None:
    with get_runtime(request).sessions() as db:
        project = project_by_public_key(db, public_key)
        if project is None:
            return None
        account = account_of_project(db, project, binotel.PROVIDER)
        if account is None:
            return BinotelTarget(project.id)
        config = account.config or {}
        return BinotelTarget(
            project.id,
            has_account=True,
            allowed_ips=_addresses(config.get("allowed_ips")),
            trusted_proxies=_addresses(config.get("trusted_proxies")),
        )


def _addresses(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(entry) for entry in value if isinstance(entry, str) and entry.strip()]


def _operator_addresses(request: Request) -> list[str]:
    return [str(network) for network in get_runtime(request).settings.binotel_sender_addresses]


def _note_refused_sender(request: Request, project_id: int, sender: str, reason: str) -> None:
    note_webhook_refusal(
        get_runtime(request).engine,
        project_id=project_id,
        provider=binotel.PROVIDER,
        reason=WebhookRefusalReason.SENDER_NOT_ALLOWED,
        address=sender,
        detail=reason,
        now=utcnow(),
    )


def _refused(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


@router.post("/{public_key}")
async def binotel_call_completed(request: Request, public_key: PublicKey) -> Response:
    """One Binotel request: check the sender, parse, ingest, answer success."""
    target = await run_in_threadpool(_find_target, request, public_key)
    if target is None:
        return _refused(404, "unknown project")
    if not target.has_account:
        return _refused(403, "no Binotel account is set up for this project")
    peer = request.client.host if request.client else ""
    sender = binotel.sender_address(
        peer, request.headers.get("X-Forwarded-For"), target.trusted_proxies
    )
    allowed = [*binotel.SERVER_ADDRESSES, *_operator_addresses(request), *target.allowed_ips]
    if not binotel.address_allowed(sender, allowed):
        reason = (
            f"address {sender} is not one of Binotel's servers (nor in "
            "RINGTRAIL_BINOTEL_SENDER_ADDRESSES or this account's allowed_ips)"
        )
        await run_in_threadpool(_note_refused_sender, request, target.project_id, sender, reason)
        return _refused(403, reason)
    try:
        pairs = await read_form(request)
        events = parse_events(
            lambda: binotel.parse_call_completed(binotel.parse_nested_form(pairs))
        )
    except InvalidPayload as exc:
        return _refused(400, str(exc))
    if events:
        await ingest_events(request, events, project_id=target.project_id)
    return JSONResponse(SUCCESS)
