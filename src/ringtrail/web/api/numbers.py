"""/api/v1/projects/{id}/numbers: list, add, read, change and remove tracking numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import field_validator

from ringtrail.domain.roles import Permission
from ringtrail.services.tracking import (
    add_number,
    change_number,
    get_number,
    list_numbers,
    remove_number,
)
from ringtrail.storage.models import TrackingNumber
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import (
    IdFilter,
    ItemId,
    Phone,
    ProjectId,
    RefId,
    Text40,
    Text100,
    Text200,
    reject_nulls,
)
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/numbers", tags=["tracking numbers"])

NumberKind = Literal["static", "pool"]


class NumberNullable(StrictInput):
    """Fields that may be null: null clears them."""

    pool_id: RefId | None = None
    source: Text100 | None = None
    medium: Text100 | None = None
    campaign: Text200 | None = None
    forward_to: Phone | None = None
    provider: Text40 | None = None
    provider_ref: Text200 | None = None


class NumberCreate(NumberNullable):
    number: Phone
    kind: NumberKind = "static"
    is_pool_default: bool = False
    label: Text200 = ""
    offline_only: bool = False
    is_active: bool = True


class NumberUpdate(NumberNullable):
    number: Phone | None = None
    kind: NumberKind | None = None
    is_pool_default: bool | None = None
    label: Text200 | None = None
    offline_only: bool | None = None
    is_active: bool | None = None

    _not_null = field_validator(
        "number", "kind", "is_pool_default", "label", "offline_only", "is_active", mode="before"
    )(reject_nulls)


class NumberOut(Output):
    id: int
    project_id: int
    e164: str
    kind: NumberKind
    pool_id: int | None
    is_pool_default: bool
    label: str
    source: str | None
    medium: str | None
    campaign: str | None
    offline_only: bool
    forward_to: str | None
    provider: str | None
    provider_ref: str | None
    is_active: bool
    created_at: datetime


@router.get("", response_model=list[NumberOut])
def list_(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    kind: NumberKind | None = None,
    pool_id: IdFilter = None,
) -> list[TrackingNumber]:
    """The project's numbers, optionally of one kind or one pool."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return list_numbers(db, project, kind=kind, pool_id=pool_id)


@router.post("", response_model=NumberOut, status_code=status.HTTP_201_CREATED)
def create(
    project_id: ProjectId, body: NumberCreate, db: DbSession, principal: Principal
) -> TrackingNumber:
    """Start tracking a number (static, or in one of the project's pools)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return add_number(db, project, body.model_dump())


@router.get("/{number_id}", response_model=NumberOut)
def read(
    project_id: ProjectId, number_id: ItemId, db: DbSession, principal: Principal
) -> TrackingNumber:
    """One number."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return get_number(db, project, number_id)


@router.patch("/{number_id}", response_model=NumberOut)
def update(
    project_id: ProjectId,
    number_id: ItemId,
    body: NumberUpdate,
    db: DbSession,
    principal: Principal,
) -> TrackingNumber:
    """Change a number; only the fields sent change (null clears a nullable field)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    number = get_number(db, project, number_id)
    return change_number(db, project, number, body.model_dump(exclude_unset=True))


@router.delete("/{number_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(
    project_id: ProjectId, number_id: ItemId, db: DbSession, principal: Principal
) -> Response:
    """Stop tracking a number."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    remove_number(db, project, number_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
