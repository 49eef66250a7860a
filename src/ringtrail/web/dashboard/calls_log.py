"""The calls log: search, filters, audio player, marking target, tags, comments, deal value."""

from __future__ import annotations

from ringtrail.web.dashboard.routing import dashboard_router

router = dashboard_router()
