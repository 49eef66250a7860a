"""/api/v1/projects/{id}/webhook-secret: the generic webhook's signing secret, for admins.

Reading it and rotating it need MANAGE_PROJECT (admins and owners); both are audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field

from ringtrail.domain.roles import Permission
from ringtrail.services.webhook_secrets import (
    DEFAULT_GRACE_HOURS,
    MAX_GRACE_HOURS,
    WebhookSecret,
    rotate_webhook_secret,
    show_webhook_secret,
    webhook_path,
)
from ringtrail.storage.models import Project
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession, get_runtime

router = APIRouter(prefix="/projects/{project_id}/webhook-secret", tags=["webhook secret"])


class RotateIn(StrictInput):
    grace_hours: Annotated[int, Field(ge=0, le=MAX_GRACE_HOURS)] = Field(
        default=DEFAULT_GRACE_HOURS,
        description="How long the replaced secret is still accepted (0: refused at once)",
    )


class WebhookSecretOut(Output):
    secret: str = Field(description="Signs `X-Ringtrail-Signature` (docs/webhooks.md)")
    previous_valid_until: datetime | None = Field(
        description="Until when the secret before the last rotation is still accepted"
    )
    webhook_url: str


def _out(request: Request, project: Project, state: WebhookSecret) -> WebhookSecretOut:
    base = get_runtime(request).settings.public_url.rstrip("/")
    return WebhookSecretOut(
        secret=state.secret,
        previous_valid_until=state.previous_valid_until,
        webhook_url=base + webhook_path(project),
    )


@router.get("", response_model=WebhookSecretOut)
def show(
    project_id: ProjectId, request: Request, db: DbSession, principal: Principal
) -> WebhookSecretOut:
    """The project's webhook signing secret (admin or owner); the reading is logged."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _out(request, project, show_webhook_secret(db, project, datetime.now(UTC)))


@router.post("/rotate", response_model=WebhookSecretOut)
def rotate(
    project_id: ProjectId,
    request: Request,
    db: DbSession,
    principal: Principal,
    body: RotateIn | None = None,
) -> WebhookSecretOut:
    """A new secret; the old one stays accepted for `grace_hours` (default 24)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    grace = (body or RotateIn()).grace_hours
    return _out(request, project, rotate_webhook_secret(db, project, datetime.now(UTC), grace))
