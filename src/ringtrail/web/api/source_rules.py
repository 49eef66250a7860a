"""/api/v1/projects/{id}/source-rules: list, add, read, change and remove source rules.

A project holds at most MAX_RULES_PER_PROJECT rules (one more is a 409), each with at most
MAX_CONDITIONS_PER_RULE conditions; a regular expression too long or too costly by construction
is a 422 naming the condition.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, field_validator

from ringtrail.domain.roles import Permission
from ringtrail.domain.rule_patterns import MAX_PATTERN_LENGTH
from ringtrail.domain.source_rules import MAX_CONDITIONS_PER_RULE, MAX_RULES_PER_PROJECT
from ringtrail.services.source_rules import (
    ConditionField,
    ConditionOp,
    add_rule,
    change_rule,
    get_rule,
    list_rules,
    remove_rule,
)
from ringtrail.storage.models import SourceRule
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import (
    ItemId,
    Name,
    Priority,
    ProjectId,
    RefId,
    Text100,
    Text200,
    Text500,
    reject_nulls,
)
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/source-rules", tags=["source rules"])


class Condition(StrictInput):
    """One test on a visit; every condition of a rule must hold."""

    field: ConditionField
    op: ConditionOp
    value: Text500 | None = Field(
        default=None,
        description="Not used by `exists`; for `click_id` one of gclid, gbraid, wbraid, "
        f"yclid, fbclid, msclkid, ttclid; for `regex` at most {MAX_PATTERN_LENGTH} characters, "
        "and no group of one repeated item repeated again, as in (a+)+.",
    )


class RuleNullable(StrictInput):
    """Fields that may be null: null clears them."""

    source: Text100 | None = None
    medium: Text100 | None = None
    campaign: Text200 | None = None
    pool_id: RefId | None = Field(default=None, description="A pool of this project to show.")
    static_number_id: RefId | None = Field(
        default=None, description="A static number of this project to show (not with pool_id)."
    )


class RuleCreate(RuleNullable):
    name: Name
    priority: Priority = Field(default=100, description="Rules are tried lowest first.")
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS_PER_RULE)
    is_active: bool = True


class RuleUpdate(RuleNullable):
    name: Name | None = None
    priority: Priority | None = None
    conditions: list[Condition] | None = Field(default=None, max_length=MAX_CONDITIONS_PER_RULE)
    is_active: bool | None = None

    _not_null = field_validator("name", "priority", "conditions", "is_active", mode="before")(
        reject_nulls
    )


class ConditionOut(BaseModel):
    field: str
    op: str
    value: str | None


class RuleOut(Output):
    id: int
    project_id: int
    name: str
    priority: int
    conditions: list[ConditionOut]
    source: str | None
    medium: str | None
    campaign: str | None
    pool_id: int | None
    static_number_id: int | None
    is_active: bool
    created_at: datetime


@router.get("", response_model=list[RuleOut])
def list_(project_id: ProjectId, db: DbSession, principal: Principal) -> list[SourceRule]:
    """The project's rules in the order they are tried."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return list_rules(db, project)


@router.post(
    "",
    response_model=RuleOut,
    status_code=status.HTTP_201_CREATED,
    description=f"Add a rule. A project holds at most {MAX_RULES_PER_PROJECT} rules, switched "
    "off ones included: one more is a 409.",
)
def create(
    project_id: ProjectId, body: RuleCreate, db: DbSession, principal: Principal
) -> SourceRule:
    """Add a rule."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    return add_rule(db, project, body.model_dump())


@router.get("/{rule_id}", response_model=RuleOut)
def read(project_id: ProjectId, rule_id: ItemId, db: DbSession, principal: Principal) -> SourceRule:
    """One rule."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return get_rule(db, project, rule_id)


@router.patch("/{rule_id}", response_model=RuleOut)
def update(
    project_id: ProjectId, rule_id: ItemId, body: RuleUpdate, db: DbSession, principal: Principal
) -> SourceRule:
    """Change a rule; only the fields sent change (`conditions` is replaced as a whole)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    rule = get_rule(db, project, rule_id)
    return change_rule(db, project, rule, body.model_dump(exclude_unset=True))


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(project_id: ProjectId, rule_id: ItemId, db: DbSession, principal: Principal) -> Response:
    """Remove a rule."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    remove_rule(db, project, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
