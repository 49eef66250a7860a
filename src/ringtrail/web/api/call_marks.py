"""/api/v1/projects/{id}/calls/{call_id}: marking a call target, tags, comments, deal value."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
