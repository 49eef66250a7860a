"""Test helper: API keys of a chosen role for a tenant's project."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import issue_api_key
from ringtrail.storage.models import Organization
from tests.conftest import Tenant


def project_key(db: Session, tenant: Tenant, role: Role) -> dict[str, str]:
    """Authorization headers for a new key of `role` scoped to the tenant's project."""
    organization = db.get(Organization, tenant.organization_id)
    assert organization is not None
    issued = issue_api_key(db, organization, f"{role.value} key", role, project=tenant.project)
    db.commit()
    return {"Authorization": f"Bearer {issued.secret}"}
