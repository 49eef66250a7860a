"""The dashboard's long-lived parts, built once at start-up and kept on the app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ringtrail.settings import Settings
from ringtrail.web.dashboard.i18n import Catalogs
from ringtrail.web.dashboard.templating import Templates
from ringtrail.web.dashboard.throttle import LoginThrottle


@dataclass
class Dashboard:
    """Templates in every language, the login throttle and the settings pages read."""

    settings: Settings
    templates: Templates
    throttle: LoginThrottle

    @classmethod
    def build(cls, settings: Settings) -> Dashboard:
        """Load the catalogs and compile nothing yet (templates compile on first use)."""
        catalogs = Catalogs.load(settings.default_locale)
        return cls(settings=settings, templates=Templates(catalogs), throttle=LoginThrottle())


def dashboard_of(request: Request) -> Dashboard:
    """The dashboard the app was set up with."""
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard
