"""The delivery job: each pass of the jobs runner sends what is due (services.deliveries).

One pass claims at most RINGTRAIL_DELIVERY_BATCH_SIZE deliveries; a full pass reports
`busy`, so the runner goes again at once until the backlog is drained.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from ringtrail.integrations.bitrix24 import DESTINATION as BITRIX24
from ringtrail.runtime import Runtime
from ringtrail.services.bitrix24_tokens import DatabaseTokenStore
from ringtrail.services.deliveries.facts import LinkSettings
from ringtrail.services.deliveries.worker import DeliveryReport, deliver_due

_CACHES: dict[int, MutableMapping[int, Any]] = {}
LEASE_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class DeliveryJobReport:
    """A pass's deliveries, and whether it stopped at its limit with more waiting."""

    report: DeliveryReport
    busy: bool


def delivery_client(runtime: Runtime) -> httpx.Client:
    """The HTTP client deliveries share: pooled, with the instance's request timeout."""
    concurrency = runtime.settings.delivery_concurrency
    return httpx.Client(
        timeout=runtime.settings.delivery_timeout_seconds,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        follow_redirects=False,
    )


def link_settings(runtime: Runtime) -> LinkSettings:
    """How recording links sent to a CRM are signed."""
    settings = runtime.settings
    return LinkSettings(
        secret=settings.resolved_secret_key(),
        public_url=settings.public_url,
        ttl_seconds=settings.delivery_link_ttl_seconds,
    )


def _keep_bitrix24_tokens(runtime: Runtime) -> None:
    """Bitrix24 renews OAuth tokens on use; the worker keeps the renewed pair in the database,
    so a restart does not fall back to a refresh token Bitrix24 no longer accepts."""
    store = BITRIX24.token_store
    if not (isinstance(store, DatabaseTokenStore) and store.sessions is runtime.sessions):
        BITRIX24.token_store = DatabaseTokenStore(runtime.sessions)


def lease_seconds(limit: int, concurrency: int, timeout: float) -> float:
    """How long a pass holds its claim: every send of the batch timing out in turn, plus a
    margin. A worker killed mid-pass leaves its rows to the next worker after this long."""
    return (math.ceil(limit / concurrency) + 1) * timeout + LEASE_MARGIN_SECONDS


def run_deliveries(
    runtime: Runtime, now: datetime, *, client: httpx.Client | None = None
) -> DeliveryJobReport:
    """One pass of deliveries as of `now`."""
    settings = runtime.settings
    _keep_bitrix24_tokens(runtime)
    limit = settings.delivery_batch_size
    own = client is None
    http = client or delivery_client(runtime)
    try:
        report = deliver_due(
            runtime.sessions,
            http,
            now,
            limit=limit,
            concurrency=settings.delivery_concurrency,
            max_attempts=settings.delivery_max_attempts,
            lease_seconds=lease_seconds(
                limit, settings.delivery_concurrency, settings.delivery_timeout_seconds
            ),
            links=link_settings(runtime),
            destinations_cache=_CACHES.setdefault(id(runtime.engine), {}),
        )
    finally:
        if own:
            http.close()
    return DeliveryJobReport(report, busy=report.claimed >= limit)
