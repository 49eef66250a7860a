"""/api/v1/projects/{id}/integrations and .../deliveries: where conversions go, and the log of
what was sent.

Destinations (GA4, Google Ads, Meta, Yandex Metrica, a CRM) are read by keys that may manage
tracking and changed, tested and validated by admins (MANAGE_PROJECT, like the telephony
accounts): their settings hold the ad accounts' secrets, which are write-only (shown masked).
The delivery log is readable by every key that may view reports; its payloads are masked by
each destination. Replaying a delivery is an admin's act. `GET .../calls/{call_id}/deliveries`
is one call's part of the log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field, field_validator

from ringtrail.domain.conversion_rules import MAX_NAME_LENGTH
from ringtrail.domain.roles import Permission
from ringtrail.integrations.registry import UnknownDestination, destination
from ringtrail.services.deliveries.destinations import (
    available_kinds,
    consent_mode,
    create_destination,
    delete_destination,
    get_destination,
    list_destinations,
    set_consent_mode,
    shown_config,
    update_destination,
)
from ringtrail.services.deliveries.log import (
    MAX_PAGE,
    DeliveryEntry,
    daily_totals,
    deliveries_of,
    get_delivery,
    list_deliveries,
)
from ringtrail.services.deliveries.replay import replay_delivery
from ringtrail.services.delivery_views import day_start
from ringtrail.services.errors import NotFound
from ringtrail.services.integration_checks import CheckOutcome, can_validate, check_destination
from ringtrail.services.integration_fields import kind_fields
from ringtrail.storage.models import Call, IntegrationDestination, Project
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import MAX_ID, ItemId, Name, ProjectId, reject_nulls
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/integrations", tags=["integrations"])
log_router = APIRouter(prefix="/projects/{project_id}/deliveries", tags=["integrations"])
call_router = APIRouter(prefix="/projects/{project_id}/calls", tags=["integrations"])

Status = Literal["pending", "sending", "accepted", "rejected", "skipped", "dead"]
Money = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"))]
TagName = Annotated[str, Field(min_length=1, max_length=100)]
DEFAULT_TOTAL_DAYS = 14


class FieldOut(BaseModel):
    name: str
    title: str
    description: str
    input: str = Field(description="text, number, checkbox, select, list or password (a secret)")
    required: bool
    default: str | int | float | bool | None
    choices: list[str]


class KindOut(BaseModel):
    kind: str
    label: str
    on_change: str = Field(description="What a later change of a call sent can do there")
    events: list[str]
    can_validate: bool
    fields: list[FieldOut]


class DestinationOut(BaseModel):
    id: int
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any] = Field(description="The settings; each secret set shows masked")
    rules: dict[str, Any]
    can_validate: bool
    created_at: datetime
    updated_at: datetime | None


class RuleIn(StrictInput):
    """A destination's conversion rule; a field left out takes its default."""

    count_calls: bool = True
    answered_only: bool = True
    min_talk_seconds: int = Field(default=0, ge=0, le=86_400)
    target_only: bool = False
    first_time_only: bool = False
    required_tags: list[TagName] = Field(default_factory=list, max_length=20)
    count_leads: bool = False
    lead_kinds: list[Literal["form", "callback"]] = Field(default=["form", "callback"])
    leads_target_only: bool = False
    conversion_name: str = Field(default="phone_call", min_length=1, max_length=MAX_NAME_LENGTH)
    lead_conversion_name: str = Field(default="lead", min_length=1, max_length=MAX_NAME_LENGTH)
    value_mode: Literal["none", "fixed", "deal", "tags"] = Field(
        default="none",
        description="none; fixed (fixed_value); deal (the call's deal value, else "
        "fallback_value); tags (the highest value of the call's tags in tag_values)",
    )
    fixed_value: Money | None = None
    tag_values: dict[TagName, Money] = Field(default_factory=dict, max_length=50)
    fallback_value: Money | None = None
    resend_on_change: bool = Field(
        default=False,
        description="Send a call again when it changes after it was sent (as an update or a "
        "restatement, where the destination takes one)",
    )


class DestinationCreate(StrictInput):
    kind: str = Field(min_length=1, max_length=40, description="A kind of GET .../kinds")
    name: Name
    enabled: bool = True
    config: dict[str, Any] = Field(
        default_factory=dict, description="The kind's settings, secrets included (write-only)"
    )
    rules: RuleIn | None = None


class DestinationUpdate(StrictInput):
    name: Name | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = Field(
        default=None,
        description="The settings as a whole; a secret left out or empty keeps the stored one",
    )

    _not_null = field_validator("name", "enabled", "config", mode="before")(reject_nulls)


class ConsentIn(StrictInput):
    consent_mode: Literal["ignore", "require"] = Field(
        description="require: ad platforms get only calls whose visit allowed ad storage"
    )


class ConsentOut(BaseModel):
    consent_mode: str


class CheckOut(BaseModel):
    outcome: str = Field(description="accepted, rejected, retry or skipped")
    ok: bool
    reason: str
    status_code: int | None
    payload: dict[str, Any] = Field(description="What was sent, masked")
    response: dict[str, Any]
    messages: list[str]


class DeliveryOut(Output):
    id: int
    destination_id: int | None
    destination_name: str
    kind: str
    subject_kind: str
    subject_id: int
    event_name: str
    sequence: int
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    status_code: int | None
    reason_code: str | None
    reason: str | None = Field(description="Why it was skipped or refused, in words")
    dedupe_key: str | None
    conversion: dict[str, Any] | None
    payload: dict[str, Any] = Field(description="What was sent, masked")
    response: dict[str, Any]


class DeliveryPageOut(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None = Field(description="Pass as `before` for the next page")


class TotalOut(BaseModel):
    day: date
    destination_id: int
    destination_name: str
    counts: dict[str, int]
    total: int


def _destination_out(row: IntegrationDestination) -> DestinationOut:
    try:
        validates = can_validate(destination(row.kind))
    except (UnknownDestination, ImportError):  # a kind this version lacks still lists
        validates = False
    return DestinationOut(
        id=row.id,
        kind=row.kind,
        name=row.name,
        enabled=row.enabled,
        config=shown_config(row),
        rules=dict(row.rules or {}),
        can_validate=validates,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_out(found: CheckOutcome) -> CheckOut:
    return CheckOut(
        outcome=found.outcome,
        ok=found.ok,
        reason=found.reason,
        status_code=found.status_code,
        payload=found.payload,
        response=found.response,
        messages=list(found.messages),
    )


def _delivery_out(entry: DeliveryEntry) -> DeliveryOut:
    return DeliveryOut.model_validate(entry)


@router.get("/kinds", response_model=list[KindOut])
def kinds(project_id: ProjectId, db: DbSession, principal: Principal) -> list[KindOut]:
    """The kinds of destination this installation sends to, with their settings' fields."""
    load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    out = []
    for info in available_kinds():
        fields = kind_fields(info.config_model, info.secret_fields)
        out.append(
            KindOut(
                kind=info.kind,
                label=info.label,
                on_change=info.on_change,
                events=sorted(info.events),
                can_validate=can_validate(destination(info.kind)),
                fields=[
                    FieldOut(
                        name=f.name,
                        title=f.title,
                        description=f.description,
                        input=f.input,
                        required=f.required,
                        default=f.default,
                        choices=list(f.choices),
                    )
                    for f in fields
                ],
            )
        )
    return out


@router.get("/consent", response_model=ConsentOut)
def consent(project_id: ProjectId, db: DbSession, principal: Principal) -> ConsentOut:
    """Whether ad platforms get only calls whose visit allowed ad storage."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return ConsentOut(consent_mode=consent_mode(project))


@router.put("/consent", response_model=ConsentOut)
def put_consent(
    project_id: ProjectId, body: ConsentIn, db: DbSession, principal: Principal
) -> ConsentOut:
    """Set the project's consent mode (ignore or require), for every ad platform."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    set_consent_mode(db, project, body.consent_mode)
    return ConsentOut(consent_mode=consent_mode(project))


@router.get("", response_model=list[DestinationOut])
def list_(project_id: ProjectId, db: DbSession, principal: Principal) -> list[DestinationOut]:
    """The project's destinations; secrets show masked."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return [_destination_out(row) for row in list_destinations(db, project)]


@router.post("", response_model=DestinationOut, status_code=status.HTTP_201_CREATED)
def create(
    project_id: ProjectId, body: DestinationCreate, db: DbSession, principal: Principal
) -> DestinationOut:
    """Add a destination; its `config` is checked against its kind's fields (a 422 names the
    first one refused)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    row = create_destination(
        db,
        project,
        kind=body.kind,
        name=body.name,
        config=body.config,
        rules=body.rules.model_dump(mode="json") if body.rules is not None else None,
        enabled=body.enabled,
    )
    return _destination_out(row)


@router.get("/{destination_id}", response_model=DestinationOut)
def read(
    project_id: ProjectId, destination_id: ItemId, db: DbSession, principal: Principal
) -> DestinationOut:
    """One destination; secrets show masked."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return _destination_out(get_destination(db, project, destination_id))


@router.patch("/{destination_id}", response_model=DestinationOut)
def update(
    project_id: ProjectId,
    destination_id: ItemId,
    body: DestinationUpdate,
    db: DbSession,
    principal: Principal,
) -> DestinationOut:
    """Rename, switch on or off, or change the settings (secrets left out are kept)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    row = update_destination(
        db, project, destination_id, name=body.name, enabled=body.enabled, config=body.config
    )
    return _destination_out(row)


@router.delete("/{destination_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(
    project_id: ProjectId, destination_id: ItemId, db: DbSession, principal: Principal
) -> Response:
    """Remove the destination and its delivery log."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    delete_destination(db, project, destination_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{destination_id}/rule", response_model=DestinationOut)
def put_rule(
    project_id: ProjectId,
    destination_id: ItemId,
    body: RuleIn,
    db: DbSession,
    principal: Principal,
) -> DestinationOut:
    """Replace the destination's conversion rule: which calls count, the name and value."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    rules = body.model_dump(mode="json")
    return _destination_out(update_destination(db, project, destination_id, rules=rules))


def _checked(project: Project, row: IntegrationDestination, *, validate: bool) -> CheckOut:
    return _check_out(check_destination(project, row, datetime.now(UTC), validate=validate))


@router.post("/{destination_id}/test", response_model=CheckOut)
def test(
    project_id: ProjectId, destination_id: ItemId, db: DbSession, principal: Principal
) -> CheckOut:
    """Send a sample conversion of a fake call made now, with test ids, through the
    destination's own checks and sending, and answer what came of it (nothing is logged).
    409 when the destination's kind is missing or its settings need fixing."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _checked(project, get_destination(db, project, destination_id), validate=False)


@router.post("/{destination_id}/validate", response_model=CheckOut)
def validate(
    project_id: ProjectId, destination_id: ItemId, db: DbSession, principal: Principal
) -> CheckOut:
    """Check the sample with the destination's validation service (GA4's debug endpoint);
    409 with the reason for a destination without one."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _checked(project, get_destination(db, project, destination_id), validate=True)


def _bounds(
    project: Project, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    since = day_start(first, project.timezone) if first is not None else None
    until = day_start(last + timedelta(days=1), project.timezone) if last is not None else None
    return since, until


@log_router.get("", response_model=DeliveryPageOut)
def deliveries(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    destination_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    from_: Annotated[
        date | None, Query(alias="from", description="First day, project time")
    ] = None,
    to: Annotated[date | None, Query(description="Last day (included), project time")] = None,
    call_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    lead_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DeliveryPageOut:
    """The delivery log, newest first: what was sent where, the answer, and why not."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    since, until = _bounds(project, from_, to)
    subject_kind, subject_id = (
        ("call", call_id) if call_id is not None else ("lead", lead_id) if lead_id else (None, None)
    )
    page = list_deliveries(
        db,
        project,
        status=status_,
        destination_id=destination_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        since=since,
        until=until,
        before=before,
        limit=limit,
    )
    return DeliveryPageOut(
        items=[_delivery_out(entry) for entry in page.items], next_before=page.next_before
    )


@log_router.get("/totals", response_model=list[TotalOut])
def totals(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    destination_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[TotalOut]:
    """Deliveries per destination and day (project time) by status, to set beside the ad
    platform's count; the last 14 days unless `from` and `to` say otherwise."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    last = to or datetime.now(UTC).date()
    first = from_ or last - timedelta(days=DEFAULT_TOTAL_DAYS - 1)
    rows = daily_totals(db, project, first_day=first, last_day=last, destination_id=destination_id)
    return [
        TotalOut(
            day=row.day,
            destination_id=row.destination_id,
            destination_name=row.destination_name,
            counts=row.counts,
            total=row.total,
        )
        for row in rows
    ]


@log_router.get("/{delivery_id}", response_model=DeliveryOut)
def delivery(
    project_id: ProjectId, delivery_id: ItemId, db: DbSession, principal: Principal
) -> DeliveryOut:
    """One delivery."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return _delivery_out(get_delivery(db, project, delivery_id))


@log_router.post("/{delivery_id}/replay", response_model=DeliveryOut)
def replay(
    project_id: ProjectId, delivery_id: ItemId, db: DbSession, principal: Principal
) -> DeliveryOut:
    """Send a rejected, dead or skipped delivery again from its first attempt (admins); 409
    for one in any other state."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    replay_delivery(db, project, delivery_id, datetime.now(UTC))
    return _delivery_out(get_delivery(db, project, delivery_id))


@call_router.get("/{call_id}/deliveries", response_model=list[DeliveryOut])
def call_deliveries(
    project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal
) -> list[DeliveryOut]:
    """What was sent about one call, per destination in sending order."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    call = db.get(Call, call_id)
    if call is None or call.project_id != project.id:
        raise NotFound("no such call")
    return [_delivery_out(entry) for entry in deliveries_of(db, project, "call", call_id)]
