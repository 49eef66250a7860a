"""Project settings pages: numbers, pools, source rules, users, API keys, tracking tag."""

from __future__ import annotations

from ringtrail.web.dashboard.routing import dashboard_router

router = dashboard_router()
