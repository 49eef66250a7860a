"""Dashboard pages for leads beyond calls: the leads list (with target marks) and the
form-tracking settings.

The list (`/p/{id}/leads`) shows every kind of lead, newest first, attributed source and the
person a lead joined; members who may mark calls mark forms and callbacks the same way
(services.lead_marking). Phones are masked for roles that may not see callers' numbers.
Form tracking (`/p/{id}/settings/forms`) needs the right to manage tracking.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Query, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.form_fields import FormPolicy
from ringtrail.domain.privacy import mask_phone
from ringtrail.domain.roles import Permission
from ringtrail.services.errors import NotFound
from ringtrail.services.form_leads import set_form_policy
from ringtrail.services.lead_marking import list_leads, mark_lead_target
from ringtrail.storage.models import Lead, User
from ringtrail.web.api.fields import MAX_ID
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    NOTICES,
    Refusal,
    attempt,
    done,
    local_time,
    render_settings,
)
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

router = dashboard_router()
SECTION = "forms"
PAGE = 50
LeadId = Annotated[int, Path(ge=1, le=MAX_ID)]
KIND_LABELS = {
    "call": N_("Call"),
    "form": N_("Form"),
    "callback": N_("Callback request"),
}
NOTICES.update({"forms_saved": N_("The form tracking settings were saved.")})


def _lead_row(lead: Lead, timezone: str, masked: bool) -> dict[str, Any]:
    payload = lead.payload or {}
    return {
        "id": lead.id,
        "at": local_time(lead.created_at, timezone),
        "kind": lead.kind,
        "kind_label": KIND_LABELS.get(lead.kind, lead.kind),
        "phone": mask_phone(lead.phone_e164) if masked else lead.phone_e164,
        "email": None if masked else lead.email,
        "name": lead.name,
        "source": lead.source,
        "medium": lead.medium,
        "campaign": lead.campaign,
        "is_target": lead.is_target,
        "person": lead.person_id,
        "call_id": lead.call_id,
        "fields": dict(payload.get("fields") or {}),
    }


@router.get("/p/{project_id}/leads")
def leads_page(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    kind: Annotated[str, Query(max_length=20)] = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Leads of every kind (calls, forms, callback requests), newest first."""
    opened = open_project(db, user, project_id, Permission.VIEW_CALLS)
    project = opened.project
    kinds = [kind] if kind in KIND_LABELS else []
    rows = list_leads(db, project.id, kinds=kinds, before_id=before, limit=PAGE)
    masked = not opened.may(Permission.SEE_CALLER_NUMBERS)
    return dashboard_of(request).templates.render(
        request,
        "leads.html",
        {
            **opened.page_context(),
            "section_active": "leads",
            "leads": [_lead_row(lead, project.timezone, masked) for lead in rows],
            "kind": kind if kinds else "",
            "kind_labels": KIND_LABELS,
            "next_before": rows[-1].id if len(rows) == PAGE else None,
        },
    )


@router.post("/p/{project_id}/leads/{lead_id}/target")
def mark_lead(
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    lead_id: LeadId,
    target: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Mark a lead target ("true"), not target ("false") or clear the mark (anything else)."""
    opened = open_project(db, user, project_id, Permission.MARK_CALLS)
    value = {"true": True, "false": False}.get(target)
    try:
        mark_lead_target(db, opened.project.id, lead_id, user.id, value)
    except NotFound as exc:
        raise PageNotFound() from exc
    return see_other(f"/p/{project_id}/leads#lead-{lead_id}")


def _forms_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    policy = FormPolicy.from_extra(opened.project.extra)
    values = form or {
        "enabled": "on" if policy.enabled else "",
        "selector": policy.selector or "",
        "allowed_fields": "\n".join(policy.allowed_fields),
    }
    return render_settings(
        request,
        opened,
        "settings_forms.html",
        {"settings_active": SECTION, "form": values},
        refusal,
    )


@router.get("/p/{project_id}/settings/forms")
def forms_settings(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Form tracking: on or off, which forms (CSS selector) and which extra fields to keep."""
    return _forms_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/forms")
def save_forms_settings(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    enabled: Annotated[str, Form(max_length=10)] = "",
    selector: Annotated[str, Form(max_length=1000)] = "",
    allowed_fields: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Save the form tracking settings."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    form = {"enabled": enabled, "selector": selector, "allowed_fields": allowed_fields}
    names = [name for line in allowed_fields.splitlines() for name in line.split(",")]
    refusal = attempt(
        db,
        lambda: set_form_policy(
            db, opened.project, enabled=bool(enabled), selector=selector, allowed_fields=names
        ),
        N_("The form tracking settings could not be saved."),
    )
    if refusal is not None:
        return _forms_page(request, db, user, project_id, refusal, form)
    return done(project_id, SECTION, "forms_saved")
