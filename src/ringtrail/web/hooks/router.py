"""Collects every provider webhook under /hooks (adding a provider touches this file only)."""

from __future__ import annotations

from fastapi import APIRouter

from ringtrail.web.hooks import binotel, bitrix24, signed, twilio, twilio_callbacks, zadarma

hooks_router = APIRouter(prefix="/hooks", tags=["telephony webhooks"])
hooks_router.include_router(signed.router)
hooks_router.include_router(zadarma.router)
hooks_router.include_router(binotel.router)
hooks_router.include_router(twilio.router)
hooks_router.include_router(twilio_callbacks.router)
hooks_router.include_router(bitrix24.router)
