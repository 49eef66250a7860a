"""/api/v1/reports: every report as JSON, CSV or XLSX, for one project and period."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
