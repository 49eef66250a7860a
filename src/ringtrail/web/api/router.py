"""Collects every /api/v1 router in one place (adding a resource touches this file only)."""

from __future__ import annotations

from fastapi import APIRouter

from ringtrail.web.api import projects

api_router = APIRouter()
api_router.include_router(projects.router)
