"""/api/v1/projects/{id}/costs and /deals: ad costs and CRM deals in, by JSON or CSV."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
