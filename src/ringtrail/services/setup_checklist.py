"""The data behind a project's set-up checklist, and the one-click catch-all rule for a pool.

`setup_facts` reads what the checklist (`domain/setup_checklist.py`) is judged on from the
tables tracking already writes: numbers, pools and source rules, visits, number leases and
calls. Nothing new is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.setup_checklist import SetupFacts
from ringtrail.services.pools import shown_pool_ids
from ringtrail.services.source_rules import add_rule, list_rules
from ringtrail.services.tracking import get_pool
from ringtrail.storage.models import (
    Call,
    NumberLease,
    Pool,
    Project,
    SourceRule,
    TrackingNumber,
    Visit,
)

CATCH_ALL_NAME = "Every visit: {pool}"
"""The name of a pool's catch-all rule (the pool's name filled in)."""


def pools_without_rule(db: Session, project: Project) -> set[int]:
    """The ids of the project's active pools that no active source rule points at."""
    pools = set(
        db.scalars(select(Pool.id).where(Pool.project_id == project.id, Pool.is_active.is_(True)))
    )
    return pools - shown_pool_ids(db, pools)


def add_catch_all_rule(db: Session, project: Project, pool_id: int) -> SourceRule:
    """A rule with no conditions that shows `pool_id` to every visit, tried after all others."""
    pool = get_pool(db, project, pool_id)
    rules = list_rules(db, project)
    priority = max((rule.priority for rule in rules), default=0) + 10
    name = CATCH_ALL_NAME.format(pool=pool.name)[:200]
    return add_rule(
        db, project, {"name": name, "conditions": [], "pool_id": pool.id, "priority": priority}
    )


def setup_facts(db: Session, project: Project) -> SetupFacts:
    """What the checklist needs to know about `project`, from real data."""
    numbers = db.scalar(
        select(func.count())
        .select_from(TrackingNumber)
        .where(TrackingNumber.project_id == project.id, TrackingNumber.is_active.is_(True))
    )
    pools_with_numbers = set(
        db.scalars(
            select(TrackingNumber.pool_id).where(
                TrackingNumber.project_id == project.id,
                TrackingNumber.pool_id.is_not(None),
                TrackingNumber.is_active.is_(True),
            )
        )
    )
    active_pools = set(
        db.scalars(select(Pool.id).where(Pool.project_id == project.id, Pool.is_active.is_(True)))
    )
    pointed = {rule.pool_id for rule in list_rules(db, project) if rule.is_active}
    first_visit = db.execute(
        select(Visit.started_at, Visit.landing_url)
        .where(Visit.project_id == project.id, Visit.is_bot.is_(False))
        .order_by(Visit.started_at, Visit.id)
        .limit(1)
    ).first()
    return SetupFacts(
        numbers=int(numbers or 0),
        pools_with_rule=len(active_pools & pools_with_numbers & pointed),
        first_visit_at=first_visit.started_at if first_visit else None,
        first_visit_page=first_visit.landing_url if first_visit else None,
        first_number_shown_at=_first_number_shown(db, project),
        first_call_at=db.scalar(
            select(func.min(Call.started_at)).where(Call.project_id == project.id)
        ),
    )


def _first_number_shown(db: Session, project: Project) -> datetime | None:
    """The first pool number leased to a visit, or the first visit a static-number rule sent."""
    leased = db.scalar(
        select(func.min(NumberLease.leased_at)).where(
            NumberLease.project_id == project.id, NumberLease.visit_id.is_not(None)
        )
    )
    static = db.scalar(
        select(func.min(Visit.started_at))
        .join(SourceRule, SourceRule.id == Visit.source_rule_id)
        .where(
            Visit.project_id == project.id,
            Visit.is_bot.is_(False),
            SourceRule.static_number_id.is_not(None),
        )
    )
    moments = [moment for moment in (leased, static) if moment is not None]
    return min(moments) if moments else None
