"""The visit use case with an injected clock: visits, touches, holds and failures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.leases.base import LeaseOutcome, NewVisitorStart, PoolRef
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

    def start_new_visitor(self, pool: PoolRef, **fields: Any) -> NewVisitorStart | None:
        raise ConnectionError("redis is down")


def test_a_failing_lease_backend_still_shows_the_default_number(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    started = start(service(runtime, BrokenBackend(runtime.engine)), site, T0)
    assert {(n.number, n.kind) for n in started.numbers} == {(site.default, "default")}


COOKIE_JAR = {
    "_ga": "GA1.1.123456789.1700000000",
    "_ga_OLD111": "GS1.1.1700000000.1.1.1700000100.0.0.0",
    "_ga_NEW222": "GS2.1.s1746000000$o3$g1$t1746000100$j0$l0$h0",
    "_gcl_aw": "GCL.1700000000.Cj0KCQ-from-cookie",
    "_fbp": "fb.1.1700000000000.1234567890",
    "_fbc": "fb.1.1700000000000.IwAR-click",
    "_ym_uid": "1700000000123456789",
}


def start_with_cookies(
    tracking: TrackingService, site: Site, now: datetime, url: str, cookies: dict[str, str]
) -> VisitStarted:
    request = VisitStart(
        key=site.key, visitor_token=None, url=url, referrer="https://www.google.com/",
        cookies=cookies, visible=True, user_agent=BROWSER, client_address="203.0.113.9",
        origin=SITE,
    )  # fmt: skip
    return tracking.start_visit(request, now)


def test_a_visit_stores_its_analytics_ids_landing_page_and_why_this_source(
    runtime: Runtime, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    start_with_cookies(service(runtime), site, T0, GOOGLE_ADS_URL, COOKIE_JAR)
    (stored,) = db.scalars(select(Visit))
    assert stored.landing_url == GOOGLE_ADS_URL and stored.landing_path == "/flats"
    assert stored.ga_client_id == "123456789.1700000000"
    # both GA4 cookie formats are read; each measurement id keeps its own session id
    assert stored.extra["ga_session_ids"] == {"OLD111": "1700000000", "NEW222": "1746000000"}
    assert stored.ga_session_id in {"1700000000", "1746000000"}
    assert (stored.ym_uid, stored.fbp, stored.fbc) == (
        COOKIE_JAR["_ym_uid"],
        COOKIE_JAR["_fbp"],
        COOKIE_JAR["_fbc"],
    )
    assert stored.gclid == "Cj0KCQiA-test-gclid"  # the URL's gclid wins over _gcl_aw
    assert (stored.source, stored.medium, stored.channel) == ("google", "cpc", "paid_search")
    # the "why this source" trace names the layer that decided and the rule that matched
    trace = " ".join(stored.source_trace)
    assert "utm" in trace.lower() and "Google Ads" in trace
    (lease,) = db.scalars(select(NumberLease))
    assert lease.snapshot["analytics"]["ga_session_ids"] == stored.extra["ga_session_ids"]


def test_a_gclid_only_in_the_gcl_aw_cookie_is_stored_with_the_visit(
    runtime: Runtime, db: Session, world: World
) -> None:
    """A gclid stripped from the URL by a redirect survives in `_gcl_aw`; the visit keeps it."""
    site = set_up_site(db, world)
    url = f"{SITE}/flats?utm_source=google&utm_medium=cpc&utm_campaign=spring"
    start_with_cookies(service(runtime), site, T0, url, {"_gcl_aw": COOKIE_JAR["_gcl_aw"]})
    (stored,) = db.scalars(select(Visit))
    (lease,) = db.scalars(select(NumberLease))
    assert lease.snapshot["analytics"]["gclid"] == "Cj0KCQ-from-cookie"
    assert stored.gclid == "Cj0KCQ-from-cookie"
