"""Bitrix24's outbound events at /hooks/bitrix24/{public_key}/{destination_id}: deals back.

Bitrix24 POSTs a form (`event=ONCRMDEALUPDATE`, `data[FIELDS][ID]=759`,
`auth[application_token]=...`). The token must equal the one stored on the project's Bitrix24
destination (403 with the reason otherwise: no token stored, a wrong one, the destination
switched off). A deal add or update is read back with `crm.deal.get` and upserted as the
project's deal `bitrix24:<id>` (services/crm_deals.py), which the profit report uses. Other
events are answered 200 and ignored, with the reason. Bitrix24 does not retry an event, so
every answer says in words what happened.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ringtrail.integrations.bitrix24 import Bitrix24Config
from ringtrail.integrations.bitrix24_api import Bitrix24Error
from ringtrail.services.bitrix24_tokens import DatabaseTokenStore
from ringtrail.services.crm_deals import DEAL_EVENTS, config_of, sync_bitrix24_deal
from ringtrail.services.deliveries.destinations import stored_secrets
from ringtrail.services.errors import InvalidInput
from ringtrail.services.telephony_accounts import project_by_public_key
from ringtrail.storage.models import IntegrationDestination, Project
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.web.deps import get_runtime
from ringtrail.web.hooks.common import PublicKey, read_form

router = APIRouter(prefix="/bitrix24")

DestinationId = Annotated[int, Path(ge=1, le=2**62, description="The Bitrix24 destination")]


@dataclass(frozen=True)
class _Target:
    project_id: int
    config: Bitrix24Config | None
    refusal: str | None = None


def _find(request: Request, public_key: str, destination_id: int) -> _Target | None:
    with get_runtime(request).sessions() as db:
        project = project_by_public_key(db, public_key)
        row = db.get(IntegrationDestination, destination_id)
        if project is None or row is None or row.project_id != project.id:
            return None
        if row.kind != "bitrix24":
            return None
        if not row.enabled:
            return _Target(project.id, None, "the Bitrix24 destination is switched off")
        try:
            return _Target(project.id, config_of(row, stored_secrets(row)))
        except ValidationError as exc:
            first = exc.errors()[0]["msg"]
            return _Target(project.id, None, f"the Bitrix24 settings are incomplete: {first}")


def token_refusal(stored: str | None, offered: str | None) -> str | None:
    """Why the event's application token is refused (None: it matches)."""
    if not stored:
        return (
            "no application token is stored for this Bitrix24 destination: paste the token "
            "Bitrix24 shows for the outgoing webhook"
        )
    if not offered:
        return "the event carries no auth[application_token]"
    if not hmac.compare_digest(stored.encode(), offered.encode()):
        return "auth[application_token] does not match the stored token"
    return None


def _sync(request: Request, target: _Target, deal_id: int) -> tuple[int, dict[str, Any]]:
    assert target.config is not None
    runtime = get_runtime(request)
    store = DatabaseTokenStore(runtime.sessions)
    with runtime.sessions() as db, httpx.Client() as client:
        project = db.get(Project, target.project_id)
        assert project is not None
        try:
            result = sync_bitrix24_deal(db, project, target.config, deal_id, client, store)
        except Bitrix24Error as exc:
            return 502, {"detail": f"could not read the deal from Bitrix24: {exc.words}"}
        except InvalidInput as exc:
            db.rollback()
            return 422, {"detail": f"deal {deal_id} not taken: {exc.message}"}
        if result.ignored:
            return 200, {"deal": result.external_id, "ignored": result.ignored}
        db.commit()
        imported = result.imported
        assert imported is not None
        return 200, {
            "deal": result.external_id,
            "created": imported.created,
            "updated": imported.updated,
            "linked": imported.linked,
        }


@router.post("/{public_key}/{destination_id}")
async def receive_bitrix24_event(
    public_key: PublicKey, destination_id: DestinationId, request: Request
) -> JSONResponse:
    """Verify the application token, then read the deal back and upsert it."""
    try:
        form = dict(await read_form(request))
    except InvalidPayload as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    target = await run_in_threadpool(_find, request, public_key, destination_id)
    if target is None:
        return JSONResponse(
            {"detail": "unknown project key or Bitrix24 destination"}, status_code=404
        )
    refusal = target.refusal or token_refusal(
        target.config.application_token if target.config else None,
        form.get("auth[application_token]"),
    )
    if refusal is not None:
        return JSONResponse({"detail": f"event refused: {refusal}"}, status_code=403)
    event = form.get("event", "").strip().upper()
    if event not in DEAL_EVENTS:
        words = f"{event or 'no event'}: Ringtrail reads only deal add and update events"
        return JSONResponse({"ignored": words})
    raw_id = form.get("data[FIELDS][ID]", "").strip()
    if not raw_id.isdigit() or not 0 < int(raw_id) < 2**62:
        return JSONResponse({"detail": "data[FIELDS][ID] must be a deal id"}, status_code=422)
    status, body = await run_in_threadpool(_sync, request, target, int(raw_id))
    return JSONResponse(body, status_code=status)
