"""Pool plans from a project's recorded traffic: each pool's holds (start to last heartbeat)
and overflows over the last days, run through the simulator's planner; the plan is kept in
`Project.extra["pool_plans"]` for the pool-health page, with the per-number monthly price in
`Project.extra["pool_number_price"]`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ringtrail.domain.pool_planning import attribution_window, monthly_cost
from ringtrail.services.pool_health import pool_ref
from ringtrail.simulation.planner import PoolPlan, plan_for_rate, plan_trace, trace_from_spans
from ringtrail.simulation.scenario import Scenario
from ringtrail.storage.models import NumberLease, Pool, PoolOverflow, Project

PLANS_KEY = "pool_plans"
PRICE_KEY = "pool_number_price"
HISTORY = timedelta(days=28)
_overflows = cast(Table, PoolOverflow.__table__)


@dataclass(frozen=True)
class StoredPlan:
    """A pool's plan as the pool-health page shows it."""

    size: int
    expected_accuracy: float
    monthly_cost: float | None
    planned_at: str


def number_price(project: Project) -> float | None:
    """The monthly price of one pool number, when the project set one."""
    raw = (project.extra or {}).get(PRICE_KEY)
    return float(raw) if isinstance(raw, int | float) and raw >= 0 else None


def base_scenario(project: Project, pool: Pool, session: Session) -> Scenario:
    """The planner's scenario for `pool`: its hold times; the call timing of clinic-5k."""
    timings = pool_ref(session, project, pool).timings
    window = attribution_window(timings)
    return Scenario(
        window_minutes=window.total_seconds() / 60,
        grace_minutes=timings.grace.total_seconds() / 60,
    )


def recorded_spans(session: Session, pool_id: int, since: datetime) -> list[tuple[float, float]]:
    """The pool's visits since `since` as [start, last heartbeat] in seconds after it; each
    overflow counted in an hour is a visit of the mean hold length spread over that hour."""
    spans = [
        ((leased - since).total_seconds(), (last - since).total_seconds())
        for leased, last in session.execute(
            select(NumberLease.leased_at, NumberLease.last_heartbeat_at).where(
                NumberLease.pool_id == pool_id, NumberLease.leased_at >= since
            )
        )
    ]
    mean = sum(b - a for a, b in spans) / len(spans) if spans else 60.0
    for hour_start, count in session.execute(
        select(_overflows.c.hour_start, _overflows.c["count"]).where(
            _overflows.c.pool_id == pool_id, _overflows.c.hour_start >= since
        )
    ):
        offset = (hour_start - since).total_seconds()
        for i in range(count):
            start = offset + 3600 * (i + 0.5) / count
            spans.append((start, start + mean))
    return spans


def plan_pool(
    session: Session,
    project: Project,
    pool: Pool,
    now: datetime,
    *,
    target: float = 0.99,
    history: timedelta = HISTORY,
    visits_per_hour: float | None = None,
    visit_seconds: float | None = None,
    price: float | None = None,
) -> PoolPlan | None:
    """The plan of one pool from its recorded traffic, else from the given rate; None when
    it has neither."""
    base = base_scenario(project, pool, session)
    price = price if price is not None else number_price(project)
    since = now - history
    spans = recorded_spans(session, pool.id, since)
    if spans:
        trace = trace_from_spans({str(pool.id): spans}, history.total_seconds(), base)
        return plan_trace(trace, target=target, price_per_number=price)[str(pool.id)]
    if visits_per_hour is not None and visits_per_hour > 0:
        return plan_for_rate(
            visits_per_hour,
            visit_seconds or 100.0,
            target=target,
            base=base,
            price_per_number=price,
        )
    return None


def save_plans(project: Project, plans: Mapping[int, PoolPlan], now: datetime) -> None:
    """Keep the plans with the project for the pool-health page."""
    extra = dict(project.extra or {})
    stored = dict(extra.get(PLANS_KEY) or {})
    for pool_id, plan in plans.items():
        stored[str(pool_id)] = {**plan.to_json(), "planned_at": now.isoformat()}
    extra[PLANS_KEY] = stored
    project.extra = extra


def set_number_price(project: Project, price: float) -> None:
    """Remember the monthly price of one pool number."""
    project.extra = {**(project.extra or {}), PRICE_KEY: price}


def stored_plan(project: Project, pool_id: int) -> StoredPlan | None:
    """The latest plan kept for the pool, its cost at today's price."""
    raw: Any = ((project.extra or {}).get(PLANS_KEY) or {}).get(str(pool_id))
    if not isinstance(raw, dict) or not isinstance(raw.get("size"), int):
        return None
    price = number_price(project)
    return StoredPlan(
        size=raw["size"],
        expected_accuracy=float(raw.get("expected_accuracy") or 0.0),
        monthly_cost=monthly_cost(raw["size"], price) if price is not None else None,
        planned_at=str(raw.get("planned_at") or ""),
    )
