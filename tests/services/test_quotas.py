"""Per-organisation quotas: projects and live API keys stop at the configured limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import get_or_create_organization, issue_api_key
from ringtrail.services.api_keys import issue_project_key, revoke_project_key
from ringtrail.services.errors import QuotaExceeded
from ringtrail.services.projects import create_project
from ringtrail.storage.models import Organization
from tests.conftest import World


def test_an_organisation_cannot_exceed_its_project_quota(db: Session) -> None:
    organization = get_or_create_organization(db, "Quota Inc")
    create_project(db, organization, "One", max_projects=2)
    create_project(db, organization, "Two", max_projects=2)
    with pytest.raises(QuotaExceeded, match="limit of 2 projects"):
        create_project(db, organization, "Three", max_projects=2)
    other = get_or_create_organization(db, "Other Inc")
    assert create_project(db, other, "One", max_projects=2).organization_id == other.id


def test_an_organisation_cannot_exceed_its_key_quota_and_revoked_keys_do_not_count(
    db: Session, world: World
) -> None:
    project = world.ours.project  # the organisation holds two live keys already
    organization = db.get_one(Organization, world.ours.organization_id)
    third = issue_project_key(db, project, Role.OWNER, "third", Role.VIEWER, max_keys=3)
    with pytest.raises(QuotaExceeded, match="limit of 3 API keys"):
        issue_project_key(db, project, Role.OWNER, "fourth", Role.VIEWER, max_keys=3)
    with pytest.raises(QuotaExceeded):
        issue_api_key(db, organization, "org-wide", Role.VIEWER, max_keys=3)
    revoke_project_key(db, project, Role.OWNER, third.key.id, datetime.now(UTC))
    assert issue_project_key(db, project, Role.OWNER, "fourth", Role.VIEWER, max_keys=3)
