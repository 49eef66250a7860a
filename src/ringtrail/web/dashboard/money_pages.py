"""Costs and deals pages: ad cost CSV upload, deals CSV import, attribution model."""

from __future__ import annotations

from ringtrail.web.dashboard.routing import dashboard_router

router = dashboard_router()
