"""Collects every /api/v1 router in one place (adding a resource touches this file only)."""

from __future__ import annotations

from fastapi import APIRouter

from ringtrail.web.api import (
    api_keys,
    bot_settings,
    call_marks,
    calls,
    conversion_files,
    integrations,
    leads,
    members,
    money,
    numbers,
    pool_health,
    pools,
    privacy,
    projects,
    quality_rules,
    recordings,
    reports,
    scoring,
    source_rules,
    telephony,
    transcripts,
    webhook_secret,
)

api_router = APIRouter()
api_router.include_router(projects.router)
api_router.include_router(numbers.router)
api_router.include_router(pools.router)
api_router.include_router(pool_health.router)
api_router.include_router(source_rules.router)
api_router.include_router(members.router)
api_router.include_router(api_keys.router)
api_router.include_router(recordings.router)
api_router.include_router(transcripts.router)
api_router.include_router(calls.router)
api_router.include_router(telephony.router)
api_router.include_router(call_marks.router)
api_router.include_router(quality_rules.router)
api_router.include_router(leads.router)
api_router.include_router(money.router)
api_router.include_router(reports.router)
api_router.include_router(privacy.router)
api_router.include_router(webhook_secret.router)
api_router.include_router(bot_settings.router)
api_router.include_router(conversion_files.router)
api_router.include_router(scoring.router)
api_router.include_router(integrations.router)
api_router.include_router(integrations.log_router)
api_router.include_router(integrations.call_router)
