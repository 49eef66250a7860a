"""Marking calls by people: target or not, tags, comments and the deal value sales record.

Each change is made in the caller's transaction (the caller commits). A change that can move
a report (the target flag, tags, the deal value) tells the rollups that the call's day changed.
A call of another project is NotFound, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ringtrail.services.call_judgement import judge_call
from ringtrail.services.deliveries.enqueue import note_call_changed
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.reports.rollups import mark_calls_changed
from ringtrail.storage.models import Call, CallComment, CallTag, CallTagRemoval, Tag
from ringtrail.storage.models.base import utcnow

SET_BY_USER: Final = "user"
MAX_TAG_LENGTH = 100
MAX_TAGS = 20
MAX_COMMENT_LENGTH = 4000
MAX_DEAL_VALUE = Decimal("1e15")


def _call(db: Session, project_id: int, call_id: int) -> Call:
    call = db.get(Call, call_id)
    if call is None or call.project_id != project_id:
        raise NotFound("no such call")
    return call


def mark_target(
    db: Session, project_id: int, call_id: int, user_id: int | None, is_target: bool | None
) -> Call:
    """Mark the call target (True), not target (False) or not judged (None) by a person.

    The mark is kept as a score in the call's history, and copied to the lead the call made.
    """
    call = _call(db, project_id, call_id)
    judge_call(db, call, is_target, by=SET_BY_USER, user_id=user_id)
    return call


def clean_tag_names(names: Sequence[str]) -> list[str]:
    """The tag names trimmed, blanks and repeats dropped (first spelling kept), in order."""
    cleaned: list[str] = []
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise InvalidInput("tags", f"a tag is at most {MAX_TAG_LENGTH} characters")
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} tags on a call")
    return cleaned


def set_tags(
    db: Session, project_id: int, call_id: int, names: Sequence[str], user_id: int | None = None
) -> list[str]:
    """Make `names` the call's tags (creating the project's new tags); the names, sorted.

    A person's edit: tags a rule or the model set and the person kept stay theirs; a tag the
    person took off is recorded (`CallTagRemoval`) so no rule puts it back, until the person
    adds it again.
    """
    call = _call(db, project_id, call_id)
    wanted = clean_tag_names(names)
    existing = {
        tag.name: tag
        for tag in db.scalars(select(Tag).where(Tag.project_id == project_id, Tag.name.in_(wanted)))
    }
    for name in wanted:
        if name not in existing:
            tag = Tag(project_id=project_id, name=name)
            db.add(tag)
            existing[name] = tag
    db.flush()
    keep = {existing[name].id for name in wanted}
    current = set(db.scalars(select(CallTag.tag_id).where(CallTag.call_id == call.id)))
    now = utcnow()
    if current - keep:
        db.execute(
            delete(CallTag).where(CallTag.call_id == call.id, CallTag.tag_id.in_(current - keep))
        )
        removed = set(
            db.scalars(select(CallTagRemoval.tag_id).where(CallTagRemoval.call_id == call.id))
        )
        for tag_id in sorted(current - keep - removed):
            db.add(CallTagRemoval(call_id=call.id, tag_id=tag_id, user_id=user_id, removed_at=now))
    if keep - current:
        db.execute(
            delete(CallTagRemoval).where(
                CallTagRemoval.call_id == call.id, CallTagRemoval.tag_id.in_(keep - current)
            )
        )
    for tag_id in sorted(keep - current):
        db.add(CallTag(call_id=call.id, tag_id=tag_id, set_by=SET_BY_USER, set_at=now))
    db.flush()
    if current != keep:
        mark_calls_changed(db, project_id, [call.started_at])
        note_call_changed(db, call, utcnow())
    return sorted(wanted)


def add_comment(
    db: Session, project_id: int, call_id: int, user_id: int | None, body: str
) -> CallComment:
    """A note on the call by `user_id`: not blank, at most 4000 characters."""
    call = _call(db, project_id, call_id)
    text = body.strip()
    if not text:
        raise InvalidInput("body", "the comment is empty")
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput("body", f"a comment is at most {MAX_COMMENT_LENGTH} characters")
    comment = CallComment(call_id=call.id, user_id=user_id, body=text)
    db.add(comment)
    db.flush()
    return comment


def list_comments(db: Session, project_id: int, call_id: int) -> list[CallComment]:
    """The call's comments, oldest first."""
    call = _call(db, project_id, call_id)
    return list(
        db.scalars(
            select(CallComment)
            .where(CallComment.call_id == call.id)
            .order_by(CallComment.created_at, CallComment.id)
        )
    )


def read_deal_value(text: str) -> Decimal | None:
    """A deal value as typed in a form ("1 250,50" too); blank is None."""
    cleaned = "".join(text.split()).replace(",", ".")
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:
        raise InvalidInput("deal_value", "not a number") from exc


def set_deal_value(db: Session, project_id: int, call_id: int, value: Decimal | None) -> Call:
    """Record the value of the deal the call led to (None clears it); never negative."""
    call = _call(db, project_id, call_id)
    if value is not None:
        if not value.is_finite() or value < 0:
            raise InvalidInput("deal_value", "must be zero or more")
        if value >= MAX_DEAL_VALUE:
            raise InvalidInput("deal_value", "is too large")
    stored = None if value is None else float(round(value, 2))
    if call.deal_value != stored:
        call.deal_value = stored
        db.flush()
        mark_calls_changed(db, project_id, [call.started_at])
        note_call_changed(db, call, utcnow())
    return call
