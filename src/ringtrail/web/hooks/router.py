"""Collects every provider webhook under /hooks (adding a provider touches this file only)."""

from __future__ import annotations

from fastapi import APIRouter

hooks_router = APIRouter(prefix="/hooks", tags=["telephony webhooks"])
