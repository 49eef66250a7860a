"""/api/v1/projects/{id}/pools: list, create (optionally with numbers), read, change, delete."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.pools import (
    PoolSummary,
    PoolWarning,
    change_pool,
    create_pool,
    list_pools,
    pool_warnings,
    remove_pool,
    summarize_pools,
)
from ringtrail.services.tracking import get_pool
from ringtrail.storage.models import Pool
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, Minutes, Name, Phone, ProjectId, reject_nulls
from ringtrail.web.api.schemas import StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/pools", tags=["pools"])


class PoolHoldTimes(StrictInput):
    """Hold times in minutes; null means the project's setting applies."""

    grace_minutes: Minutes | None = None
    cooldown_minutes: Minutes | None = None


class PoolCreate(PoolHoldTimes):
    name: Name
    is_active: bool = True
    numbers: list[Phone] = Field(default_factory=list, max_length=1000)
    default_number: Phone | None = Field(
        default=None,
        description="Shown while every other number is held; one of `numbers` or an extra one.",
    )


class PoolUpdate(PoolHoldTimes):
    name: Name | None = None
    is_active: bool | None = None

    _not_null = field_validator("name", "is_active", mode="before")(reject_nulls)


class WarningOut(BaseModel):
    code: str = Field(description="`no_rule` (no switched-on rule shows it) or `no_numbers`")
    message: str


class PoolOut(BaseModel):
    id: int
    project_id: int
    name: str
    is_active: bool
    grace_minutes: int | None
    cooldown_minutes: int | None
    numbers_count: int
    default_number: str | None
    created_at: datetime
    warnings: list[WarningOut] = Field(
        description="Why the pool swaps nothing yet; empty when it can swap"
    )


def _out(summary: PoolSummary, warnings: list[PoolWarning]) -> PoolOut:
    pool = summary.pool
    return PoolOut(
        id=pool.id,
        project_id=pool.project_id,
        name=pool.name,
        is_active=pool.is_active,
        grace_minutes=pool.grace_minutes,
        cooldown_minutes=pool.cooldown_minutes,
        numbers_count=summary.numbers_count,
        default_number=summary.default_number,
        created_at=pool.created_at,
        warnings=[WarningOut(code=w.code, message=w.message) for w in warnings],
    )


def _outs(db: Session, pools: list[Pool]) -> list[PoolOut]:
    summaries = summarize_pools(db, pools)
    warnings = pool_warnings(db, summaries)
    return [_out(summary, warnings[summary.pool.id]) for summary in summaries]


@router.get("", response_model=list[PoolOut])
def list_(project_id: ProjectId, db: DbSession, principal: Principal) -> list[PoolOut]:
    """The project's pools with their sizes, default numbers and warnings."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return _outs(db, list_pools(db, project))


@router.post("", response_model=PoolOut, status_code=status.HTTP_201_CREATED)
def create(project_id: ProjectId, body: PoolCreate, db: DbSession, principal: Principal) -> PoolOut:
    """Create a pool; `numbers` and `default_number` add its numbers in the same call."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    pool = create_pool(
        db,
        project,
        body.model_dump(exclude={"numbers", "default_number"}),
        numbers=body.numbers,
        default_number=body.default_number,
    )
    return _outs(db, [pool])[0]


@router.get("/{pool_id}", response_model=PoolOut)
def read(project_id: ProjectId, pool_id: ItemId, db: DbSession, principal: Principal) -> PoolOut:
    """One pool."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return _outs(db, [get_pool(db, project, pool_id)])[0]


@router.patch("/{pool_id}", response_model=PoolOut)
def update(
    project_id: ProjectId, pool_id: ItemId, body: PoolUpdate, db: DbSession, principal: Principal
) -> PoolOut:
    """Change a pool; only the fields sent change."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    pool = change_pool(db, get_pool(db, project, pool_id), body.model_dump(exclude_unset=True))
    return _outs(db, [pool])[0]


@router.delete("/{pool_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(project_id: ProjectId, pool_id: ItemId, db: DbSession, principal: Principal) -> Response:
    """Delete an empty pool (409 while it still has numbers)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    remove_pool(db, project, pool_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
