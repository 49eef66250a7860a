"""/api/v1/projects: list, create, read, change and delete projects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import Field
from sqlalchemy import select

from ringtrail.domain.money import AttributionModel
from ringtrail.domain.privacy import MAX_RETENTION_DAYS
from ringtrail.domain.roles import Permission
from ringtrail.domain.tracking_settings import (
    MAX_DOMAINS,
    MAX_REPLACE_NUMBERS,
    MAX_SELECTOR_LENGTH,
    MAX_SELECTORS,
)
from ringtrail.services.projects import RETENTION_FIELDS, create_project, update_project
from ringtrail.storage.models import Organization, Project
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession, get_runtime

router = APIRouter(prefix="/projects", tags=["projects"])

Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
RetentionDays = Annotated[int, Field(ge=1, le=MAX_RETENTION_DAYS)]
NULLABLE = frozenset({"recording_retention_days", "main_number", *RETENTION_FIELDS})
"""Settings a PATCH may set to null (kept forever; no main number); null leaves others as is."""


class ProjectSettings(StrictInput):
    """Settings shared by create and update."""

    timezone: str | None = Field(default=None, examples=["Europe/Kyiv"])
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$", examples=["UAH"])
    default_country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", examples=["UA"])
    allowed_domains: list[Annotated[str, Field(max_length=253)]] | None = Field(
        default=None,
        max_length=MAX_DOMAINS,
        description="Host names the script may run on (subdomains included); no scheme or path",
        examples=[["example.com"]],
    )
    main_number: str | None = Field(
        default=None, max_length=40, description="The number the site shows; null clears it"
    )
    replace_numbers: list[Annotated[str, Field(max_length=40)]] | None = Field(
        default=None,
        max_length=MAX_REPLACE_NUMBERS,
        description="More numbers the site shows, swapped like the main number",
    )
    swap_selectors: list[Annotated[str, Field(max_length=MAX_SELECTOR_LENGTH)]] | None = Field(
        default=None,
        max_length=MAX_SELECTORS,
        description="CSS selectors of elements that show the number in any format",
        examples=[[".phone"]],
    )
    number_allocation: Literal["visit", "intent"] | None = Field(
        default=None,
        description="When a visitor takes a pool number: at the visit's start (visit, the "
        "default) or when a phone number is in view or touched (intent)",
    )
    attribution_touch: Literal["first", "last"] | None = None
    grace_minutes: Minutes | None = None
    cooldown_minutes: Minutes | None = None
    unique_call_window_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    recording_retention_days: RetentionDays | None = Field(
        default=None, description="Days recordings are kept; null (on update): forever"
    )
    transcript_retention_days: RetentionDays | None = Field(
        default=None, description="Days transcripts are kept; null: forever"
    )
    call_retention_days: RetentionDays | None = Field(
        default=None, description="Days calls are kept, with their recordings; null: forever"
    )
    visit_retention_days: RetentionDays | None = Field(
        default=None, description="Days visits are kept; null: forever"
    )
    target_call_goal_percent: Annotated[int, Field(ge=0, le=100)] | None = None
    attribution_model: AttributionModel | None = Field(
        default=None, description="How deal revenue is shared over the touches before it"
    )


class ProjectCreate(ProjectSettings):
    name: str = Field(min_length=1, max_length=200)


class ProjectUpdate(ProjectSettings):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ProjectOut(Output):
    id: int
    organization_id: int
    name: str
    slug: str
    public_key: str
    timezone: str
    currency: str
    default_country: str
    allowed_domains: list[str]
    main_number: str | None
    replace_numbers: list[str]
    swap_selectors: list[str]
    number_allocation: str
    attribution_touch: str
    grace_minutes: int
    cooldown_minutes: int
    unique_call_window_days: int
    recording_retention_days: int | None
    transcript_retention_days: int | None
    call_retention_days: int | None
    visit_retention_days: int | None
    target_call_goal_percent: int
    attribution_model: str
    created_at: datetime


@router.get("", response_model=list[ProjectOut])
def list_projects(db: DbSession, principal: Principal) -> list[Project]:
    """Projects the key reaches."""
    query = select(Project).where(Project.organization_id == principal.organization_id)
    if principal.project_id is not None:
        query = query.where(Project.id == principal.project_id)
    return list(db.scalars(query.order_by(Project.id)))


@router.post("", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
def create(body: ProjectCreate, db: DbSession, principal: Principal, request: Request) -> Project:
    """Create a project; needs an organisation-wide key with the admin or owner role.

    409 when the organisation holds as many projects as its quota allows."""
    if principal.project_id is not None or not principal.may(Permission.MANAGE_PROJECT):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "creating projects needs an organisation-wide admin or owner key",
        )
    organization = db.get(Organization, principal.organization_id)
    assert organization is not None  # the key's foreign key guarantees it
    fields = body.model_dump(exclude_none=True, exclude={"name"})
    limit = get_runtime(request).settings.max_projects_per_organization
    return create_project(db, organization, body.name, max_projects=limit, **fields)


@router.get("/{project_id}", response_model=ProjectOut)
def read(project_id: ProjectId, db: DbSession, principal: Principal) -> Project:
    """One project."""
    return load_project(db, principal, project_id, Permission.VIEW_REPORTS)


@router.patch("/{project_id}", response_model=ProjectOut)
def update(
    project_id: ProjectId, body: ProjectUpdate, db: DbSession, principal: Principal
) -> Project:
    """Change a project's settings; a retention period set to null keeps that data forever."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    changes = {
        key: value
        for key, value in body.model_dump(exclude_unset=True).items()
        if value is not None or key in NULLABLE
    }
    return update_project(db, project, changes)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(project_id: ProjectId, db: DbSession, principal: Principal) -> Response:
    """Delete a project and everything in it (owner only)."""
    project = load_project(db, principal, project_id, Permission.DELETE_PROJECT)
    db.delete(project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
