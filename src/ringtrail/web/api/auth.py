"""Bearer-key authentication and per-project authorisation for /api/v1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission, Role, can
from ringtrail.services.accounts import resolve_api_key
from ringtrail.services.audit import Actor, act_as
from ringtrail.storage.models import Project
from ringtrail.web.deps import DbSession

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rt_...`")


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling: an API key's organisation, optional project scope and role."""

    key_id: int
    organization_id: int
    project_id: int | None
    role: Role

    def may(self, permission: Permission) -> bool:
        """Whether the key's role allows `permission`."""
        return can(self.role, permission)

    def reaches(self, project: Project) -> bool:
        """Whether `project` is inside the key's scope."""
        if project.organization_id != self.organization_id:
            return False
        return self.project_id is None or self.project_id == project.id


def require_api_key(
    db: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiPrincipal:
    """The caller's principal, or 401 when the key is missing, unknown or revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = resolve_api_key(db, credentials.credentials)
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    act_as(db, Actor("api_key", key.id))
    return ApiPrincipal(
        key_id=key.id,
        organization_id=key.organization_id,
        project_id=key.project_id,
        role=Role(key.role),
    )


Principal = Annotated[ApiPrincipal, Depends(require_api_key)]


def load_project(
    db: Session, principal: ApiPrincipal, project_id: int, permission: Permission
) -> Project:
    """The project if the key reaches it (404 otherwise) and its role allows `permission` (403)."""
    project = db.get(Project, project_id)
    if project is None or not principal.reaches(project):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such project")
    if not principal.may(permission):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"role {principal.role.value} may not {permission.value}"
        )
    return project
