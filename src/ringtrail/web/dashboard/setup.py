"""Mounts the dashboard on the app: session middleware, static files and page routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ringtrail.runtime import Runtime
from ringtrail.web.dashboard import (
    auth,
    callback_pages,
    calls_log,
    conversion_files_pages,
    integrations_pages,
    language,
    leads_pages,
    money_pages,
    pages,
    quality_rules_pages,
    reports,
    scoring_pages,
    settings_bots,
    settings_numbers,
    settings_pages,
    settings_people,
    settings_privacy,
    settings_refusals,
    settings_rules,
    settings_telephony,
    setup_pages,
    transcript_pages,
)
from ringtrail.web.dashboard.security import SecurityHeaders
from ringtrail.web.dashboard.sessions import install_sessions
from ringtrail.web.dashboard.state import Dashboard
from ringtrail.web.dashboard.templating import STATIC_ROUTE

STATIC_DIR = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI, runtime: Runtime) -> None:
    """Add the dashboard's middleware and routes to `app`."""
    app.state.dashboard = Dashboard.build(runtime.settings, runtime.redis)
    install_sessions(app, runtime.settings)
    app.mount("/static", SecurityHeaders(StaticFiles(directory=STATIC_DIR)), name=STATIC_ROUTE)
    for module in (
        auth,
        pages,
        language,
        reports,
        calls_log,
        transcript_pages,
        leads_pages,
        callback_pages,
        money_pages,
        scoring_pages,
        settings_pages,
        settings_numbers,
        settings_rules,
        quality_rules_pages,
        settings_telephony,
        settings_people,
        settings_privacy,
        settings_refusals,
        settings_bots,
        integrations_pages,
        conversion_files_pages,
        setup_pages,
    ):
        app.include_router(module.router)
