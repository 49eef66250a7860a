"""Project API keys: issuing, listing and revoking keys scoped to one project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import IssuedApiKey, issue_api_key, revoke_key
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.members import ensure_may_grant
from ringtrail.storage.models import ApiKey, Organization, Project


def list_project_keys(db: Session, project: Project) -> list[ApiKey]:
    """The keys scoped to the project, revoked ones included (the audit trail), oldest first."""
    query = select(ApiKey).where(ApiKey.project_id == project.id).order_by(ApiKey.id)
    return list(db.scalars(query))


def issue_project_key(
    db: Session,
    project: Project,
    actor_role: Role,
    name: str,
    role: Role,
    *,
    max_keys: int | None = None,
) -> IssuedApiKey:
    """A new key for the project alone, no stronger than the caller's role; QuotaExceeded
    when its organisation holds `max_keys` live keys already (None: no limit)."""
    if not name.strip():
        raise InvalidInput("name", "required")
    ensure_may_grant(actor_role, role)
    organization = db.get(Organization, project.organization_id)
    assert organization is not None  # the project's foreign key guarantees it
    return issue_api_key(db, organization, name.strip(), role, project=project, max_keys=max_keys)


def revoke_project_key(
    db: Session, project: Project, actor_role: Role, key_id: int, now: datetime
) -> ApiKey:
    """Revoke one of the project's keys; it is refused from then on but stays listed."""
    key = db.get(ApiKey, key_id)
    if key is None or key.project_id != project.id:
        raise NotFound("no such API key in this project")
    ensure_may_grant(actor_role, Role(key.role))
    revoke_key(db, key, now)
    return key
