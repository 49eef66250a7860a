"""/api/v1/projects/{id}/api-keys: list, issue and revoke keys scoped to one project."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import Field

from ringtrail.domain.roles import Permission, Role
from ringtrail.services.api_keys import issue_project_key, list_project_keys, revoke_project_key
from ringtrail.storage.models import ApiKey
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, Name, ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession, get_runtime

router = APIRouter(prefix="/projects/{project_id}/api-keys", tags=["API keys"])


class ApiKeyCreate(StrictInput):
    name: Name
    role: Role = Field(description="No stronger than the calling key's role.")


class ApiKeyOut(Output):
    id: int
    name: str
    prefix: str
    role: Role
    project_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedApiKeyOut(ApiKeyOut):
    secret: str = Field(description="The key itself; shown in this response only.")


@router.get("", response_model=list[ApiKeyOut])
def list_(project_id: ProjectId, db: DbSession, principal: Principal) -> list[ApiKey]:
    """The project's keys, revoked ones included; never their secrets."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MEMBERS)
    return list_project_keys(db, project)


@router.post("", response_model=IssuedApiKeyOut, status_code=status.HTTP_201_CREATED)
def create(
    project_id: ProjectId,
    body: ApiKeyCreate,
    db: DbSession,
    principal: Principal,
    request: Request,
) -> IssuedApiKeyOut:
    """Issue a key for this project alone; the secret is returned once. 409 when the
    organisation holds as many live keys as its quota allows."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MEMBERS)
    limit = get_runtime(request).settings.max_api_keys_per_organization
    issued = issue_project_key(db, project, principal.role, body.name, body.role, max_keys=limit)
    shown = ApiKeyOut.model_validate(issued.key).model_dump()
    return IssuedApiKeyOut(**shown, secret=issued.secret)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(project_id: ProjectId, key_id: ItemId, db: DbSession, principal: Principal) -> Response:
    """Revoke a key: it is refused with 401 from now on and stays listed."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MEMBERS)
    revoke_project_key(db, project, principal.role, key_id, datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
