"""/api/v1/projects/{id}/calls/{call_id}: marking a call target, tags, comments, deal value,
and that a missed caller was rung back.

Every change needs a key whose role may mark calls (sales and up; a viewer's key gets 403).
Marks made through the API carry no user (keys belong to an organisation, not a person).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import Field

from ringtrail.domain.roles import Permission
from ringtrail.services.call_marking import (
    MAX_COMMENT_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    add_comment,
    list_comments,
    mark_target,
    set_deal_value,
    set_tags,
)
from ringtrail.services.callbacks import mark_called_back
from ringtrail.services.calls import CallDetail, get_call
from ringtrail.storage.models import CallComment
from ringtrail.storage.models.base import utcnow
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.calls import CallDetailOut
from ringtrail.web.api.fields import ItemId, ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/calls/{call_id}", tags=["calls"])
TagName = Annotated[str, Field(max_length=MAX_TAG_LENGTH)]


class CallMarks(StrictInput):
    """Only the fields sent change; `is_target: null` clears the mark, `deal_value: null`
    clears the value."""

    is_target: bool | None = None
    deal_value: Decimal | None = Field(default=None, ge=0, le=Decimal("1e15"))


class CallTags(StrictInput):
    tags: list[TagName] = Field(max_length=MAX_TAGS)


class CallTagsOut(Output):
    tags: list[str]


class CommentIn(StrictInput):
    body: str = Field(min_length=1, max_length=MAX_COMMENT_LENGTH)


class CommentOut(Output):
    id: int
    created_at: datetime
    user_id: int | None
    body: str


@router.patch("", response_model=CallDetailOut)
def mark(
    project_id: ProjectId, call_id: ItemId, body: CallMarks, db: DbSession, principal: Principal
) -> CallDetail:
    """Mark the call target or not (or clear the mark) and record its deal value."""
    project = load_project(db, principal, project_id, Permission.MARK_CALLS)
    get_call(db, project, call_id)  # 404 for another project's call, even with an empty body
    if "is_target" in body.model_fields_set:
        mark_target(db, project.id, call_id, None, body.is_target)
    if "deal_value" in body.model_fields_set:
        set_deal_value(db, project.id, call_id, body.deal_value)
    return get_call(db, project, call_id)


@router.post("/callback", response_model=CallDetailOut)
def called_back(
    project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal
) -> CallDetail:
    """Record that the caller of this missed call was rung back: its callback is settled
    (`callback_resolution: "called_back"`). A call already settled stays as it was; one that
    never needed a callback is 422."""
    project = load_project(db, principal, project_id, Permission.MARK_CALLS)
    mark_called_back(db, project.id, call_id, None, utcnow())
    return get_call(db, project, call_id)


@router.put("/tags", response_model=CallTagsOut)
def replace_tags(
    project_id: ProjectId, call_id: ItemId, body: CallTags, db: DbSession, principal: Principal
) -> CallTagsOut:
    """Make these the call's tags (new names become project tags); `[]` removes them all."""
    project = load_project(db, principal, project_id, Permission.MARK_CALLS)
    return CallTagsOut(tags=set_tags(db, project.id, call_id, body.tags))


@router.get("/comments", response_model=list[CommentOut])
def comments(
    project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal
) -> list[CallComment]:
    """The call's comments, oldest first (any member may read them)."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    return list_comments(db, project.id, call_id)


@router.post("/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED)
def comment(
    project_id: ProjectId, call_id: ItemId, body: CommentIn, db: DbSession, principal: Principal
) -> CallComment:
    """Add a comment to the call."""
    project = load_project(db, principal, project_id, Permission.MARK_CALLS)
    return add_comment(db, project.id, call_id, None, body.body)
