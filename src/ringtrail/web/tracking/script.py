"""GET /t.js: the tracking script, served cacheable."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["tracking"])
