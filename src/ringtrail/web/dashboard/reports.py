"""The report pages: overview figures, one page per report, period picker, filters, exports."""

from __future__ import annotations

from ringtrail.web.dashboard.routing import dashboard_router

router = dashboard_router()
