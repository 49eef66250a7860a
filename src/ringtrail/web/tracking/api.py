"""The visitor-facing tracking API called by /t.js (session start, heartbeat)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["tracking"])
