"""The visit use case with an injected clock: visits, touches, holds and failures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.leases.base import LeaseOutcome, PoolRef
from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.runtime import Runtime
from ringtrail.services.rate_limits import MemoryRateLimiter
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.services.visits import (
    Reason,
    TrackingService,
    VisitRefused,
    VisitStart,
    VisitStarted,
)
from ringtrail.storage.models import NumberLease, Project, Visit
from tests.conftest import World
from tests.web.tracking.test_api import BROWSER, GOOGLE_ADS_URL, SITE, Site, set_up_site

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def service(runtime: Runtime, backend: Any = None) -> TrackingService:
    return TrackingService(
        runtime.sessions,
        backend or SqlLeaseBackend(runtime.engine),
        TokenSigner("secret"),
        MemoryRateLimiter(),
        address_salt="salt",
    )


def start(
    tracking: TrackingService,
    site: Site,
    now: datetime,
    visitor: str | None = None,
    url: str = GOOGLE_ADS_URL,
    referrer: str = "https://www.google.com/",
) -> VisitStarted:
    request = VisitStart(
        key=site.key, visitor_token=visitor, url=url, referrer=referrer, cookies={},
        visible=True, user_agent=BROWSER, client_address="203.0.113.9", origin=SITE,
    )  # fmt: skip
    return tracking.start_visit(request, now)


def number_of(started: VisitStarted) -> str | None:
    return started.numbers[0].number if started.numbers else None


def test_a_live_hold_keeps_the_number_even_when_a_new_visit_starts(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    tracking = service(runtime)
    first = start(tracking, site, T0)
    claim = first.visit_token
    for minutes in (10, 20, 30):
        tracking.heartbeat(
            site.key, first.visitor_token, claim, SITE, "ip", T0 + timedelta(minutes=minutes)
        )
    later = start(tracking, site, T0 + timedelta(minutes=35), visitor=first.visitor_token)
    assert number_of(later) == number_of(first)
    assert db.scalar(select(func.count()).select_from(Visit)) == 2
    assert db.scalar(select(func.count()).select_from(NumberLease)) == 1


def test_a_heartbeat_after_grace_finds_the_hold_gone(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    tracking = service(runtime)
    first = start(tracking, site, T0)
    with pytest.raises(VisitRefused) as refused:
        tracking.heartbeat(
            site.key, first.visitor_token, first.visit_token, SITE, "ip", T0 + timedelta(minutes=16)
        )
    assert refused.value.reason is Reason.HOLD_GONE


def test_first_touch_keeps_the_first_visits_source_and_pool(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    project.attribution_touch = "first"
    db.commit()
    tracking = service(runtime)
    first = start(tracking, site, T0)
    facebook = f"{SITE}/?utm_source=facebook&utm_medium=paid_social"
    later = start(tracking, site, T0 + timedelta(hours=3), first.visitor_token, url=facebook)
    assert later.numbers[0].kind == "pool"
    db.expire_all()
    visits = list(db.scalars(select(Visit).order_by(Visit.id)))
    assert [v.source for v in visits] == ["google", "google"]
    assert "first touch" in " ".join(visits[1].source_trace)


def test_last_touch_lets_a_new_campaign_replace_the_old_one(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    tracking = service(runtime)
    first = start(tracking, site, T0)
    facebook = f"{SITE}/?utm_source=facebook&utm_medium=paid_social"
    later = start(tracking, site, T0 + timedelta(hours=3), first.visitor_token, url=facebook)
    assert (later.numbers[0].kind, later.numbers[0].number) == ("static", site.static)


class BrokenBackend(SqlLeaseBackend):
    """A backend whose store is down."""

    def acquire(
        self, pool: PoolRef, visitor_id: int, visit_id: int | None,
        snapshot: Mapping[str, Any], now: datetime,
    ) -> LeaseOutcome:  # fmt: skip
        raise ConnectionError("redis is down")


def test_a_failing_lease_backend_still_shows_the_default_number(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    started = start(service(runtime, BrokenBackend(runtime.engine)), site, T0)
    assert {(n.number, n.kind) for n in started.numbers} == {(site.default, "default")}
