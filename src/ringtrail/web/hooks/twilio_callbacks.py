"""Twilio's callbacks about the calls Ringtrail places for the callback widget.

Under /hooks/twilio/callback: `/status` (the business leg), `/customer-status` (the
customer's `<Number>`), `/dial-done` (the Dial action; answers TwiML that hangs up) and
`/recording`. Each names the business leg's CallSid (the customer leg's callbacks as
`ParentCallSid`); the request is verified against the auth token of the Twilio account of the
project that placed that call, on the public URL Twilio called (as the inbound webhooks are:
web/hooks/twilio.py), and refused with 403 before anything is written otherwise. What they
report is applied by services.callback_calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ringtrail.services import callback_calls
from ringtrail.telephony import twilio
from ringtrail.telephony.errors import BadSignature, InvalidPayload
from ringtrail.web.deps import get_runtime
from ringtrail.web.hooks.common import read_form
from ringtrail.web.hooks.twilio import public_request_url

router = APIRouter(prefix="/twilio/callback")

Handler = Callable[[Session, int, Mapping[str, str], datetime], None]


async def _handle(request: Request, handler: Handler, *, child: bool) -> Response | None:
    """Verify and apply one callback; a refusal as a response, None when applied."""
    received_at = datetime.now(UTC)
    try:
        pairs = await read_form(request)
    except InvalidPayload as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    params = {name: values[0] for name, values in fields.items()}
    call_sid = params.get("ParentCallSid" if child else "CallSid", "") or params.get("CallSid", "")
    if not call_sid:
        return JSONResponse({"detail": "CallSid is missing"}, status_code=400)
    url = public_request_url(request)
    signature = request.headers.get(twilio.SIGNATURE_HEADER)
    settings_header = request.headers.get(twilio.SIGNATURE_SETTINGS_HEADER)
    runtime = get_runtime(request)

    def apply() -> bool:
        with runtime.sessions() as session:
            found = callback_calls.find_callback_call(session, call_sid)
            if found is None:
                raise BadSignature(twilio.NOT_VERIFIED)
            twilio.check_signature(
                found.auth_token, url, fields, signature, signature_settings=settings_header
            )
            handler(session, found.call_id, params, received_at)
            session.commit()
            return True

    try:
        await run_in_threadpool(apply)
    except BadSignature as exc:
        return JSONResponse({"detail": str(exc)}, status_code=403)
    return None


@router.post("/status", name="twilio_callback_status", status_code=204)
async def business_status(request: Request) -> Response:
    """The business leg's status callback: answered, then how it ended."""
    refused = await _handle(request, callback_calls.on_business_status, child=False)
    return refused or Response(status_code=204)


@router.post("/customer-status", name="twilio_callback_customer_status", status_code=204)
async def customer_status(request: Request) -> Response:
    """The customer's `<Number>` status callback: the moment the customer answered."""
    refused = await _handle(request, callback_calls.on_customer_status, child=True)
    return refused or Response(status_code=204)


@router.post("/dial-done", name="twilio_callback_dial_done")
async def dial_done(request: Request) -> Response:
    """The Dial action: the customer leg's outcome and talk time; then hang up."""
    refused = await _handle(request, callback_calls.on_dial_done, child=False)
    return refused or Response(twilio.hangup_twiml(), media_type="application/xml")


@router.post("/recording", name="twilio_callback_recording", status_code=204)
async def recording(request: Request) -> Response:
    """The Dial's recording status callback: the talk's recording, to fetch."""
    refused = await _handle(request, callback_calls.on_recording, child=False)
    return refused or Response(status_code=204)
