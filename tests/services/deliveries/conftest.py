"""Fixtures for delivery tests: a running fake platform and a destination pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.deliveries.destinations import create_destination
from ringtrail.services.deliveries.worker import DeliveryReport, deliver_due
from ringtrail.storage.models import IntegrationDestination, Project
from tests.services.deliveries import fake_sink
from tests.services.deliveries.fake_sink import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The fake platform, and `fake_sink` registered as a destination kind."""
    with fake_sink.registered_sink() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def add_sink(
    db: Session, project: Project, sink: Sink, rules: dict[str, Any] | None = None
) -> IntegrationDestination:
    row = create_destination(
        db,
        project,
        kind=fake_sink.KIND,
        name="Sink",
        config={"url": sink.url, "token": "sink-token-123"},
        rules=rules,
    )
    db.commit()
    return row


def drain(
    runtime: Runtime,
    http: httpx.Client,
    now: datetime,
    *,
    step: timedelta = timedelta(0),
    until: datetime | None = None,
    **options: Any,
) -> list[DeliveryReport]:
    """Passes until none claims anything (advancing the clock by `step` up to `until`)."""
    reports = []
    while True:
        report = deliver_due(runtime.sessions, http, now, **options)
        reports.append(report)
        if not report.claimed and (until is None or now >= until):
            return reports
        if not report.claimed:
            now += step
