"""The generic webhook's signing secret: showing it to admins, rotating it with a grace period.

After a rotation the old secret stays accepted until `previous_webhook_secret_until`, so a
sender can switch to the new one without losing events; `accepted_secrets` is what the
webhook checks. Showing and rotating are written to the audit log (never the values).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ringtrail.services.audit import HIDDEN_VALUE, record
from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models import Project

DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 7 * 24


@dataclass(frozen=True)
class WebhookSecret:
    """The current secret, and until when the one before it is still accepted (None: not)."""

    secret: str
    previous_valid_until: datetime | None


def webhook_path(project: Project) -> str:
    """Where the generic signed webhook of this project is, under the public URL."""
    return f"/hooks/v1/{project.public_key}/calls"


def new_secret() -> str:
    """A fresh random signing secret (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def accepted_secrets(project: Project, now: datetime) -> list[str]:
    """The secrets a request may be signed with at `now`: the current one, then the old one
    while its grace period lasts."""
    accepted = [project.webhook_secret] if project.webhook_secret else []
    until = project.previous_webhook_secret_until
    if project.previous_webhook_secret and until is not None and now < until:
        accepted.append(project.previous_webhook_secret)
    return accepted


def _current(project: Project, now: datetime) -> WebhookSecret:
    until = project.previous_webhook_secret_until
    still = until if project.previous_webhook_secret and until and now < until else None
    return WebhookSecret(project.webhook_secret, still)


def show_webhook_secret(db: Session, project: Project, now: datetime) -> WebhookSecret:
    """The secret, for an admin who asked to see it; the showing is logged."""
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="project.webhook_secret.show",
        object_type="projects",
        object_id=project.id,
    )
    return _current(project, now)


def webhook_secret_state(project: Project, now: datetime) -> WebhookSecret:
    """The secret without logging, for code that does not show it to a person."""
    return _current(project, now)


def rotate_webhook_secret(
    db: Session, project: Project, now: datetime, grace_hours: int = DEFAULT_GRACE_HOURS
) -> WebhookSecret:
    """Make a new secret; the current one stays accepted for `grace_hours` (0: refused now).

    A secret still in its grace period from an earlier rotation is dropped: only the one just
    replaced remains accepted.
    """
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise InvalidInput("grace_hours", f"must be between 0 and {MAX_GRACE_HOURS}")
    until = now + timedelta(hours=grace_hours) if grace_hours else None
    project.previous_webhook_secret = project.webhook_secret if until else None
    project.previous_webhook_secret_until = until
    project.webhook_secret = new_secret()
    db.flush()
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="project.webhook_secret.rotate",
        object_type="projects",
        object_id=project.id,
        changes={
            "webhook_secret": {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE},
            "previous_webhook_secret_until": {"old": None, "new": until},
        },
    )
    return _current(project, now)
