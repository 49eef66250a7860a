"""/api/v1/projects/{id}/leads: the leads of a project (calls, forms, callback requests),
marking their quality, and forms posted by the site's own backend.

`POST .../leads/forms` is for sites that handle a form on their server: the backend reads
the visitor token from the `_rt_vid` cookie of the visitor's request and posts it with the
form's fields; the lead is attributed to that visitor's visit exactly as a form the script
caught (services.form_leads). It needs a key that may manage tracking (an integration's
job); reading needs a key that may view calls, marking one that may mark calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import Field

from ringtrail.domain.form_fields import MAX_FIELDS, MAX_NAME_LENGTH, MAX_VALUE_LENGTH
from ringtrail.domain.privacy import mask_phone
from ringtrail.domain.roles import Permission
from ringtrail.services.form_leads import FormOutcome, FormSubmission, submit_form
from ringtrail.services.lead_marking import get_lead, list_leads, mark_lead_target
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.storage.models import Lead
from ringtrail.web.api.auth import ApiPrincipal, Principal, load_project
from ringtrail.web.api.fields import MAX_ID, ItemId, ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession, get_runtime

router = APIRouter(prefix="/projects/{project_id}/leads", tags=["leads"])
FieldName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
FieldValue = Annotated[str, Field(max_length=MAX_VALUE_LENGTH)]


class LeadOut(Output):
    id: int
    created_at: datetime
    kind: str
    call_id: int | None
    visitor_id: int | None
    visit_id: int | None
    phone_e164: str | None
    email: str | None
    name: str | None
    source: str | None
    medium: str | None
    campaign: str | None
    status: str
    is_target: bool | None
    person_id: int
    fields: dict[str, str]


class FormIn(StrictInput):
    """A form the site's backend received. `visitor` is the value of the visitor's `_rt_vid`
    cookie; `id` a submit id of the backend's own (a retry with the same id is one lead)."""

    visitor: str | None = Field(default=None, max_length=200)
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=MAX_FIELDS)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    id: str | None = Field(default=None, max_length=64)
    page: str | None = Field(default=None, max_length=2000)
    form: str | None = Field(default=None, max_length=200)
    honeypot: str | None = Field(default=None, max_length=MAX_VALUE_LENGTH)


class FormOut(Output):
    outcome: Literal["created", "duplicate", "no_contact", "honeypot"]
    lead: LeadOut | None


class LeadMarks(StrictInput):
    """`is_target: null` clears the mark."""

    is_target: bool | None = None


def lead_out(lead: Lead, principal: ApiPrincipal) -> LeadOut:
    """The lead as the API shows it: the phone masked for keys that may not see numbers."""
    masked = not principal.may(Permission.SEE_CALLER_NUMBERS)
    payload: dict[str, Any] = lead.payload or {}
    return LeadOut(
        id=lead.id,
        created_at=lead.created_at,
        kind=lead.kind,
        call_id=lead.call_id,
        visitor_id=lead.visitor_id,
        visit_id=lead.visit_id,
        phone_e164=mask_phone(lead.phone_e164) if masked else lead.phone_e164,
        email=None if masked else lead.email,
        name=lead.name,
        source=lead.source,
        medium=lead.medium,
        campaign=lead.campaign,
        status=lead.status,
        is_target=lead.is_target,
        person_id=lead.person_id or lead.id,
        fields=dict(payload.get("fields") or {}),
    )


@router.get("", response_model=list[LeadOut])
def leads(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    kind: Annotated[list[Literal["call", "form", "callback"]] | None, Query()] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[LeadOut]:
    """The project's leads, newest first; `kind` (repeatable) filters, `before_id` pages."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    rows = list_leads(db, project.id, kinds=kind or (), before_id=before_id, limit=limit)
    return [lead_out(row, principal) for row in rows]


@router.get("/{lead_id}", response_model=LeadOut)
def lead(project_id: ProjectId, lead_id: ItemId, db: DbSession, principal: Principal) -> LeadOut:
    """One lead."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    return lead_out(get_lead(db, project.id, lead_id), principal)


@router.patch("/{lead_id}", response_model=LeadOut)
def mark(
    project_id: ProjectId, lead_id: ItemId, body: LeadMarks, db: DbSession, principal: Principal
) -> LeadOut:
    """Mark the lead target or not (or clear the mark); a call's lead marks its call too."""
    project = load_project(db, principal, project_id, Permission.MARK_CALLS)
    row = get_lead(db, project.id, lead_id)
    if "is_target" in body.model_fields_set:
        row = mark_lead_target(db, project.id, lead_id, None, body.is_target)
    return lead_out(row, principal)


@router.post("/forms", response_model=FormOut, status_code=status.HTTP_201_CREATED)
def post_form(
    project_id: ProjectId,
    body: FormIn,
    request: Request,
    response: Response,
    db: DbSession,
    principal: Principal,
) -> FormOut:
    """A form the site's backend received: one `form` lead attributed to the visitor's visit.

    201 with the new lead; 200 with the existing one for a duplicate (same `id`, or the same
    phone or e-mail within 10 minutes); 200 with no lead when the form has neither a phone
    nor an e-mail, or its honeypot is filled in. Taken whether or not the forms script is
    enabled for the project.
    """
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    secret = get_runtime(request).settings.resolved_secret_key()
    result = submit_form(
        db,
        project,
        FormSubmission(
            fields=body.fields,
            visitor_token=body.visitor,
            submit_id=body.id,
            page=body.page,
            form=body.form,
            honeypot=body.honeypot,
            phone=body.phone,
            email=body.email,
            name=body.name,
            via="api",
        ),
        signer=TokenSigner(secret),
        require_enabled=False,
    )
    if result.outcome is not FormOutcome.CREATED:
        response.status_code = status.HTTP_200_OK
    return FormOut(
        outcome=result.outcome.value,
        lead=lead_out(result.lead, principal) if result.lead is not None else None,
    )
