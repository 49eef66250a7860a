"""/api/v1/projects/{id}/pools/{pool_id}/health: utilisation, overflows and sizing advice."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ringtrail.domain.roles import Permission
from ringtrail.services.pool_health import pool_health
from ringtrail.services.tracking import get_pool
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, ProjectId
from ringtrail.web.deps import DbSession
from ringtrail.web.tracking.api import lease_backend

router = APIRouter(prefix="/projects/{project_id}/pools", tags=["pools"])


class Overflows(BaseModel):
    last_24h: int
    last_7d: int


class PoolHealthOut(BaseModel):
    """A pool's state now; `recommended_size` keeps P(overflow) at the peak under 1 %."""

    numbers: int
    held: int
    cooling: int
    available: int
    utilisation: float
    overflows: Overflows
    recommended_size: int


@router.get("/{pool_id}/health", response_model=PoolHealthOut)
def read_pool_health(
    project_id: ProjectId,
    pool_id: ItemId,
    request: Request,
    db: DbSession,
    principal: Principal,
) -> PoolHealthOut:
    """How full the pool is, how often visitors found it full, and how big it should be."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    pool = get_pool(db, project, pool_id)
    health = pool_health(db, lease_backend(request), project, pool, datetime.now(UTC))
    census = health.census
    return PoolHealthOut(
        numbers=census.numbers,
        held=census.held,
        cooling=census.cooling,
        available=census.available,
        utilisation=census.utilisation,
        overflows=Overflows(last_24h=health.overflows_last_24h, last_7d=health.overflows_last_7d),
        recommended_size=health.recommended_size,
    )
