"""The privacy settings page: retention periods, erasing a caller's data, the audit log.

Admins and owners only (MANAGE_PROJECT), like the API's project PATCH, erasures and log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.privacy import MAX_RETENTION_DAYS
from ringtrail.domain.roles import Permission
from ringtrail.services.audit import list_entries
from ringtrail.services.privacy import StoreRefused, digest_salt, erase_caller
from ringtrail.services.projects import RETENTION_FIELDS, update_project
from ringtrail.storage.models import User
from ringtrail.web.api.fields import MAX_ID
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    NOTICES,
    FormProblem,
    Refusal,
    attempt,
    done,
    local_time,
    render_settings,
)
from ringtrail.web.deps import DbSession, get_runtime
from ringtrail.web.recordings import get_recording_store

router = dashboard_router()
SECTION = "privacy"
FIELDS = ("recording_retention_days", *RETENTION_FIELDS)
RETENTION_LABELS = {
    "visit_retention_days": N_("Visits, days"),
    "call_retention_days": N_("Calls, days"),
    "recording_retention_days": N_("Recordings, days"),
    "transcript_retention_days": N_("Transcripts, days"),
}
NOTICES.update(
    {
        "retention_saved": N_("The retention periods were saved."),
        "caller_erased": N_("The caller's data was erased; the audit log says what was removed."),
        "caller_not_found": N_("Nothing of this caller was left to erase."),
    }
)
BAD_DAYS = N_("Each period is a whole number of days from 1 to 3650, or empty to keep forever.")
AUDIT_PAGE = 50


def retention_changes(form: dict[str, str]) -> dict[str, Any]:
    """The retention fields the form sets: days, or None (empty: kept forever)."""
    changes: dict[str, Any] = {}
    for field in FIELDS:
        raw = form.get(field, "").strip()
        if not raw:
            changes[field] = None
            continue
        try:
            days = int(raw)
        except ValueError as exc:
            raise FormProblem(BAD_DAYS) from exc
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise FormProblem(BAD_DAYS)
        changes[field] = days
    return changes


def _page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
    before: int | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    project = opened.project
    values = form or {
        field: "" if getattr(project, field) is None else str(getattr(project, field))
        for field in FIELDS
    }
    audit = list_entries(db, project_id=project.id, before=before, limit=AUDIT_PAGE)
    entries = [
        {
            "at": local_time(entry.created_at, project.timezone),
            "actor": f"{entry.actor_kind} {entry.actor_id or ''}".strip(),
            "action": entry.action,
            "object": f"{entry.object_type} {entry.object_id or ''}".strip(),
            "changes": entry.changes,
        }
        for entry in audit.items
    ]
    return render_settings(
        request,
        opened,
        "settings_privacy.html",
        {
            "settings_active": SECTION,
            "form": values,
            "retention_labels": RETENTION_LABELS,
            "entries": entries,
            "next_before": audit.next_before,
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/privacy")
def privacy_settings(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Retention periods, the erasure form and the audit log, newest first."""
    return _page(request, db, user, project_id, before=before)


@router.post("/p/{project_id}/settings/privacy")
def save_retention(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    visit_retention_days: Annotated[str, Form(max_length=10)] = "",
    call_retention_days: Annotated[str, Form(max_length=10)] = "",
    recording_retention_days: Annotated[str, Form(max_length=10)] = "",
    transcript_retention_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Change the retention periods."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = {
        "visit_retention_days": visit_retention_days,
        "call_retention_days": call_retention_days,
        "recording_retention_days": recording_retention_days,
        "transcript_retention_days": transcript_retention_days,
    }
    refusal = attempt(
        db,
        lambda: update_project(db, opened.project, retention_changes(form)),
        N_("The retention periods could not be saved."),
    )
    if refusal is not None:
        return _page(request, db, user, project_id, refusal, form)
    return done(project_id, SECTION, "retention_saved")


@router.post("/p/{project_id}/settings/privacy/erase")
def erase(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    phone: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Erase one caller's data from the project; logged."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    salt = digest_salt(get_runtime(request).settings.resolved_secret_key())
    outcome: list[bool] = []

    def run() -> None:
        if not phone.strip():
            raise FormProblem(N_("Type the caller's phone number."))
        try:
            store = get_recording_store(request)
            report = erase_caller(db, store, opened.project, phone, salt=salt)
        except StoreRefused as exc:
            raise FormProblem(
                N_("The recordings store is not answering; try again later.")
            ) from exc
        outcome.append(report.nothing_left)

    refusal = attempt(db, run, N_("This is not a phone number."))
    if refusal is not None:
        return _page(request, db, user, project_id, refusal)
    return done(project_id, SECTION, "caller_not_found" if outcome[0] else "caller_erased")
