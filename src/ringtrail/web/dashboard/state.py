"""The dashboard's long-lived parts, built once at start-up and kept on the app."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from fastapi import Request

from ringtrail.settings import Settings
from ringtrail.web.dashboard.i18n import Catalogs
from ringtrail.web.dashboard.templating import Templates
from ringtrail.web.dashboard.throttle import LoginThrottle, login_throttle


@dataclass
class Dashboard:
    """Templates in every language, the login throttle and the settings pages read."""

    settings: Settings
    templates: Templates
    throttle: LoginThrottle

    @classmethod
    def build(cls, settings: Settings, redis_client: redis.Redis | None = None) -> Dashboard:
        """Load the catalogs and compile nothing yet (templates compile on first use); the
        login throttle counts in Redis when there is one."""
        catalogs = Catalogs.load(settings.default_locale)
        throttle = login_throttle(redis_client, settings.redis_key_prefix)
        return cls(settings=settings, templates=Templates(catalogs), throttle=throttle)


def dashboard_of(request: Request) -> Dashboard:
    """The dashboard the app was set up with."""
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard
