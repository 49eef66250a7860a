"""/api/v1/projects/{id}/quality-rules: call quality rules (automatic tags and target marks),
applying them to past calls, and why a rule did nothing.

Reading needs a key that may view reports; changing rules or applying them to past calls a
key that may manage tracking. A bad rule is a 422 naming the field at fault.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from ringtrail.domain.quality_rules import MAX_PHRASE_LENGTH, MAX_PHRASES, MAX_TAGS
from ringtrail.domain.reports.periods import local_day
from ringtrail.domain.roles import Permission
from ringtrail.services.call_marking import MAX_TAG_LENGTH
from ringtrail.services.errors import InvalidInput
from ringtrail.services.quality_rules import (
    MAX_BACKFILL_DAYS,
    BackfillResult,
    RuleInput,
    RuleReport,
    backfill,
    delete_rule,
    explain_rule,
    get_rule,
    list_rules,
    move_rule,
    save_rule,
)
from ringtrail.storage.models import QualityRule
from ringtrail.storage.models.base import utcnow
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, ProjectId, RefId, Text100, Text500
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/quality-rules", tags=["quality rules"])
Phrase = Annotated[str, Field(max_length=MAX_PHRASE_LENGTH)]
TagName = Annotated[str, Field(max_length=MAX_TAG_LENGTH)]
Seconds = Annotated[int, Field(ge=0, le=86_400)]


class TextConditionIn(StrictInput):
    field: Literal["source", "medium", "campaign", "channel"]
    op: Literal["equals", "contains"]
    value: Text500


class ConditionsIn(StrictInput):
    """Every condition is optional; all set ones must hold."""

    talk_at_least: Seconds | None = Field(default=None, description="Talk time >= seconds.")
    talk_under: Seconds | None = Field(default=None, description="Talk time < seconds.")
    answered: bool | None = Field(default=None, description="true: answered; false: missed.")
    first_time: bool | None = None
    out_of_hours: bool | None = Field(
        default=None, description="true: outside the rule's working hours; false: within."
    )
    text: list[TextConditionIn] = Field(default_factory=list, max_length=20)
    dialled: list[Annotated[str, Field(max_length=30)]] = Field(
        default_factory=list, max_length=100
    )
    pool_ids: list[RefId] = Field(default_factory=list, max_length=100)
    phrases_any: list[Phrase] = Field(
        default_factory=list,
        max_length=MAX_PHRASES,
        description="The transcript says at least one (any word form).",
    )
    phrases_none: list[Phrase] = Field(
        default_factory=list, max_length=MAX_PHRASES, description="The transcript says none."
    )


class WorkingHoursIn(StrictInput):
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[0, 1, 2, 3, 4], description="Monday = 0.", max_length=7
    )
    start: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "09:00"
    end: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "18:00"


class QualityRuleIn(StrictInput):
    name: Text100
    enabled: bool = True
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    add_tags: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS)
    mark: Literal["target", "non_target"] | None = None
    working_hours: WorkingHoursIn | None = Field(
        default=None, description="In the project's time zone; default Mon-Fri 09:00-18:00."
    )
    languages: list[Literal["en", "ru", "uk"]] = Field(
        default_factory=list, description="Phrase languages; empty: detected per transcript."
    )


class QualityRuleOut(Output):
    id: int
    project_id: int
    position: int
    name: str
    enabled: bool
    conditions: dict[str, object]
    add_tags: list[str]
    mark: str | None
    working_hours: dict[str, object]
    languages: list[str]
    matched_calls: int
    last_applied_at: datetime | None
    last_matched_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MoveIn(StrictInput):
    position: int = Field(ge=1, le=1000, description="1 runs first.")


class ApplyIn(StrictInput):
    from_: date = Field(alias="from")
    to: date


class BackfillOut(BaseModel):
    calls: int
    changed_calls: int
    tags_added: int
    marks_set: int
    kept_by_person: int


class RuleReportOut(BaseModel):
    rule_id: int
    enabled: bool
    calls: int
    matched: int
    acted: int
    kept_by_person: int
    reasons: list[tuple[str, int]]
    summary: str


def _input(body: QualityRuleIn) -> RuleInput:
    return RuleInput(
        name=body.name,
        enabled=body.enabled,
        conditions=body.conditions.model_dump(exclude_defaults=True),
        add_tags=body.add_tags,
        mark=body.mark,
        working_hours=None if body.working_hours is None else body.working_hours.model_dump(),
        languages=body.languages,
    )


@router.get("", response_model=list[QualityRuleOut])
def list_(project_id: ProjectId, db: DbSession, principal: Principal) -> list[QualityRule]:
    """The project's rules in the order they run."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return list_rules(db, project.id)


@router.post("", response_model=QualityRuleOut, status_code=status.HTTP_201_CREATED)
def create(
    project_id: ProjectId, body: QualityRuleIn, db: DbSession, principal: Principal
) -> QualityRule:
    """Add a rule; it runs last, on calls that end from now on (apply it to past calls with
    `POST .../apply`)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return save_rule(db, project.id, _input(body), utcnow())


@router.get("/{quality_rule_id}", response_model=QualityRuleOut)
def read(
    project_id: ProjectId, quality_rule_id: ItemId, db: DbSession, principal: Principal
) -> QualityRule:
    """One rule."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return get_rule(db, project.id, quality_rule_id)


@router.put("/{quality_rule_id}", response_model=QualityRuleOut)
def replace(
    project_id: ProjectId,
    quality_rule_id: ItemId,
    body: QualityRuleIn,
    db: DbSession,
    principal: Principal,
) -> QualityRule:
    """Replace a rule (its place in the order stays)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return save_rule(db, project.id, _input(body), utcnow(), quality_rule_id)


@router.delete("/{quality_rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(
    project_id: ProjectId, quality_rule_id: ItemId, db: DbSession, principal: Principal
) -> Response:
    """Remove a rule; the tags and marks it set stay, named in each call's history."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    delete_rule(db, project.id, quality_rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{quality_rule_id}/move", response_model=list[QualityRuleOut])
def move(
    project_id: ProjectId,
    quality_rule_id: ItemId,
    body: MoveIn,
    db: DbSession,
    principal: Principal,
) -> list[QualityRule]:
    """Put the rule at `position`; the rules in their new order."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return move_rule(db, project.id, quality_rule_id, body.position)


@router.post("/apply", response_model=BackfillOut)
def apply(
    project_id: ProjectId, body: ApplyIn, db: DbSession, principal: Principal
) -> BackfillResult:
    """Apply the switched-on rules to the ended calls of local days `from`..`to` (at most
    a year): how many calls were looked at and changed. A person's marks and tag removals
    stay."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return backfill(db, project.id, body.from_, body.to, utcnow())


@router.get("/{quality_rule_id}/explain", response_model=RuleReportOut)
def explain(
    project_id: ProjectId,
    quality_rule_id: ItemId,
    db: DbSession,
    principal: Principal,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> RuleReport:
    """How the rule fares on the ended calls of local days `from`..`to` (default: the last 30
    days): calls it matches, and the conditions that stopped the others (why it did nothing)."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    to = to or local_day(utcnow(), ZoneInfo(project.timezone or "UTC"))
    from_ = from_ or to - timedelta(days=29)
    if to < from_ or (to - from_).days >= MAX_BACKFILL_DAYS:
        raise InvalidInput("to", f"a period of 1 to {MAX_BACKFILL_DAYS} days")
    return explain_rule(db, project.id, quality_rule_id, from_, to)
