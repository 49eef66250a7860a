"""/api/v1/projects/{id}/erasures and /audit-log: erasing a caller's data, reading the log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import Field

from ringtrail.domain.roles import Permission
from ringtrail.services.audit import DEFAULT_PAGE, MAX_PAGE, list_entries
from ringtrail.services.privacy import StoreRefused, digest_salt, erase_caller
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import MAX_ID, ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession, get_runtime
from ringtrail.web.recordings import get_recording_store

router = APIRouter(prefix="/projects/{project_id}", tags=["privacy"])


class ErasureRequest(StrictInput):
    phone: str = Field(
        min_length=1, max_length=40, description="The caller's number, in any written form"
    )


class ErasureOut(Output):
    project_id: int
    removed: dict[str, int] = Field(description="Rows removed per table (files with them)")
    nothing_left: bool = Field(description="True when nothing of the caller's was found")


class AuditEntryOut(Output):
    id: int
    created_at: datetime
    actor_kind: str = Field(description="user, api_key, cli or system")
    actor_id: int | None
    action: str
    object_type: str
    object_id: str | None
    changes: dict[str, Any]


class AuditPageOut(Output):
    items: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page")


@router.post("/erasures", response_model=ErasureOut)
def erase(
    project_id: ProjectId,
    body: ErasureRequest,
    db: DbSession,
    principal: Principal,
    request: Request,
) -> ErasureOut:
    """Erase one caller's data from the project (admin or owner); logged, and safe to repeat."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    salt = digest_salt(get_runtime(request).settings.resolved_secret_key())
    try:
        report = erase_caller(db, get_recording_store(request), project, body.phone, salt=salt)
    except StoreRefused as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "30"}
        ) from exc
    return ErasureOut(
        project_id=report.project_id, removed=report.removed, nothing_left=report.nothing_left
    )


@router.get("/audit-log", response_model=AuditPageOut)
def audit_log(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Entries older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> AuditPageOut:
    """The project's audit log, newest first (admin or owner)."""
    load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    page = list_entries(db, project_id=project_id, before=before, limit=limit)
    return AuditPageOut(
        items=[AuditEntryOut.model_validate(entry) for entry in page.items],
        next_before=page.next_before,
    )
