"""Collects the tracking endpoints: the script itself and the visitor-facing JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from ringtrail.web.tracking import api, forms, intent, script, widget

tracking_router = APIRouter()
tracking_router.include_router(script.router)
tracking_router.include_router(api.router)
tracking_router.include_router(forms.router)
tracking_router.include_router(widget.router)
tracking_router.include_router(intent.router)
