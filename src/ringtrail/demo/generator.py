"""generate_demo: fills a database with the demo project's history, deterministic from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ringtrail.demo import catalog
from ringtrail.demo.calls import (
    plan_static_calls,
    plan_stray_calls,
    plan_web_calls,
    settle_outcomes,
    store_calls,
)
from ringtrail.demo.followups import judge_calls, store_followups
from ringtrail.demo.money import (
    DealBook,
    plan_call_deals,
    plan_site_leads,
    store_ad_costs,
    store_leads_and_deals,
)
from ringtrail.demo.setup import build_frame
from ringtrail.demo.traffic import assign_numbers, plan_visits, store_traffic
from ringtrail.domain.attribution import AttributionKind

DEFAULT_SEED = 2024
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class DemoSummary:
    """What was generated: where to sign in and how many rows of each kind."""

    organization_id: int
    project_id: int
    project_name: str
    email: str
    password: str
    counts: dict[str, int] = field(default_factory=dict)


def generate_demo(
    session: Session, now: datetime, days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED
) -> DemoSummary:
    """Create the demo organisation, users and project with `days` of history up to `now`.

    The same seed and `now` give the same data. Rows are flushed, not committed: the caller
    owns the transaction. Refuses (Conflict) a database that already holds the demo.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = random.Random(seed)
    zone = ZoneInfo(catalog.TIMEZONE)
    frame = build_frame(session, now - timedelta(days=days + 1))

    visits = plan_visits(rng, now, days, zone)
    assign_numbers(visits, frame)
    visitors = store_traffic(session, rng, visits, frame, now)

    calls = plan_web_calls(rng, visits, frame, now, zone)
    calls += plan_static_calls(rng, frame, now, days, zone)
    calls += plan_stray_calls(rng, visits, calls, frame, now, days, zone)
    settle_outcomes(rng, calls, zone)
    judge_calls(rng, calls, now)
    book = DealBook(rng, now)
    plan_call_deals(book, calls)
    site_leads = plan_site_leads(book, visits, now)
    store_calls(session, calls, seed, frame, now)

    counts = {
        "visitors": visitors,
        "visits": len(visits),
        "number_leases": sum(1 for v in visits if v.lease_id is not None),
        "calls": len(calls),
        "missed_calls": sum(1 for c in calls if c.status == "missed"),
        "repeat_calls": sum(1 for c in calls if not c.is_first_time),
        "unattributed_calls": sum(1 for c in calls if c.kind is AttributionKind.UNATTRIBUTED),
    }
    counts.update(store_followups(session, rng, calls, frame, now))
    counts.update(store_leads_and_deals(session, calls, site_leads, frame))
    counts["ad_costs"] = store_ad_costs(session, rng, visits, frame, zone)
    session.flush()
    return DemoSummary(
        organization_id=frame.organization_id,
        project_id=frame.project_id,
        project_name=catalog.PROJECT_NAME,
        email=catalog.DEMO_EMAIL,
        password=catalog.DEMO_PASSWORD,
        counts=counts,
    )
