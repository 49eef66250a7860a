"""Per-organisation quotas: how many projects and live API keys one organisation may hold.

The limits come from settings (RINGTRAIL_MAX_PROJECTS_PER_ORGANIZATION and
RINGTRAIL_MAX_API_KEYS_PER_ORGANIZATION); entrypoints pass them in. The organisation's row is
locked while counting (PostgreSQL), so two requests at once cannot both take the last place.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.services.errors import QuotaExceeded
from ringtrail.storage.models import ApiKey, Organization, Project


def _lock_organization(db: Session, organization_id: int) -> None:
    db.execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def ensure_project_quota(db: Session, organization_id: int, limit: int | None) -> None:
    """QuotaExceeded when the organisation already holds `limit` projects (None: no limit)."""
    if limit is None:
        return
    _lock_organization(db, organization_id)
    held = db.scalar(
        select(func.count(Project.id)).where(Project.organization_id == organization_id)
    )
    if (held or 0) >= limit:
        raise QuotaExceeded(
            f"the organisation has reached its limit of {_plural(limit, 'project')}"
            " (RINGTRAIL_MAX_PROJECTS_PER_ORGANIZATION)"
        )


def ensure_api_key_quota(db: Session, organization_id: int, limit: int | None) -> None:
    """QuotaExceeded when the organisation already holds `limit` live (unrevoked) keys."""
    if limit is None:
        return
    _lock_organization(db, organization_id)
    held = db.scalar(
        select(func.count(ApiKey.id)).where(
            ApiKey.organization_id == organization_id, ApiKey.revoked_at.is_(None)
        )
    )
    if (held or 0) >= limit:
        raise QuotaExceeded(
            f"the organisation has reached its limit of {_plural(limit, 'API key')}; revoke"
            " one it no longer uses (RINGTRAIL_MAX_API_KEYS_PER_ORGANIZATION)"
        )
