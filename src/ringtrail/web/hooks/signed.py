"""POST /hooks/v1/{public_key}/calls: the generic signed webhook (docs/webhooks.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ringtrail.services.telephony_accounts import project_by_public_key
from ringtrail.services.webhook_secrets import accepted_secrets
from ringtrail.telephony import signed
from ringtrail.telephony.errors import BadSignature, InvalidPayload
from ringtrail.web.deps import get_runtime
from ringtrail.web.hooks.common import PublicKey, ingest_events, parse_events

router = APIRouter()


def _project_secrets(request: Request, public_key: str) -> tuple[int, list[str]] | None:
    with get_runtime(request).sessions() as db:
        project = project_by_public_key(db, public_key)
        return (project.id, accepted_secrets(project, datetime.now(UTC))) if project else None


@router.post("/v1/{public_key}/calls")
async def receive_call_events(public_key: PublicKey, request: Request) -> JSONResponse:
    """Verify, parse and ingest one event or a batch; answer what was accepted."""
    found = await run_in_threadpool(_project_secrets, request, public_key)
    if found is None:
        return JSONResponse({"detail": "unknown project key"}, status_code=404)
    project_id, accepted = found
    body = await request.body()  # at most 1 MB: web.body_limit stops a larger one as it streams
    try:
        signed.verify(
            accepted,
            request.headers.get("x-ringtrail-timestamp"),
            request.headers.get("x-ringtrail-signature"),
            body,
            datetime.now(UTC),
        )
    except BadSignature as exc:
        return JSONResponse({"detail": f"signature refused: {exc}"}, status_code=403)
    try:
        events = parse_events(lambda: signed.parse(body, project_id))
    except InvalidPayload as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    results = await ingest_events(request, events, project_id=project_id)
    return JSONResponse(
        {
            "accepted": sum(not r.duplicate for r in results),
            "duplicates": sum(r.duplicate for r in results),
            "calls": [r.call_id for r in results],
        }
    )
