"""/api/v1/projects/{id}/members: list, add, change the role of and remove project members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from ringtrail.domain.roles import Permission, Role
from ringtrail.services.members import (
    Member,
    add_member,
    change_member_role,
    list_members,
    remove_member,
)
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import Email, ItemId, ProjectId
from ringtrail.web.api.schemas import StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/members", tags=["members"])


NO_ACCOUNTS_HERE = (
    "accounts are not created through the API: add someone of this organisation by e-mail;"
    " people new to it are added by the administrator of this Ringtrail"
)


class MemberCreate(StrictInput):
    email: Email = Field(description="Someone with a role in a project of this organisation.")
    role: Role
    # Refused with a reason (an e-mail unknown to the organisation gets the same answer
    # whether or not it has an account elsewhere, so the API creates none).
    name: SkipJsonSchema[Any] = None
    password: SkipJsonSchema[Any] = None

    @field_validator("name", "password")
    @classmethod
    def _no_accounts(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(NO_ACCOUNTS_HERE)


class MemberUpdate(StrictInput):
    role: Role


class MemberOut(BaseModel):
    user_id: int
    email: str
    name: str
    role: Role
    is_active: bool
    joined_at: datetime


def _out(member: Member) -> MemberOut:
    return MemberOut(
        user_id=member.user_id,
        email=member.email,
        name=member.name,
        role=member.role,
        is_active=member.is_active,
        joined_at=member.joined_at,
    )


@router.get("", response_model=list[MemberOut])
def list_(project_id: ProjectId, db: DbSession, principal: Principal) -> list[MemberOut]:
    """The project's members and their roles."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return [_out(member) for member in list_members(db, project)]


@router.post("", response_model=MemberOut, status_code=status.HTTP_201_CREATED)
def create(
    project_id: ProjectId, body: MemberCreate, db: DbSession, principal: Principal
) -> MemberOut:
    """Give someone of this organisation a role here, by e-mail; no role above the caller's."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MEMBERS)
    member = add_member(db, project, principal.role, email=body.email, role=body.role)
    return _out(member)


@router.patch("/{user_id}", response_model=MemberOut)
def update(
    project_id: ProjectId, user_id: ItemId, body: MemberUpdate, db: DbSession, principal: Principal
) -> MemberOut:
    """Change a member's role (the last owner stays an owner)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MEMBERS)
    return _out(change_member_role(db, project, principal.role, user_id, body.role))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(project_id: ProjectId, user_id: ItemId, db: DbSession, principal: Principal) -> Response:
    """Remove a member from the project (the user account stays; the last owner cannot go)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MEMBERS)
    remove_member(db, project, principal.role, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
