"""Reading leads and marking their quality: target or not, for forms and callbacks as for calls.

A call's lead is marked through its call (services.call_marking.mark_target: the call and its
lead carry the same mark). A form or callback lead keeps the mark on the lead, with each
mark in `payload["marks"]` (who, when, what), and tells the rollups its day changed, so the
lead-mix and per-source reports count it at once. A lead of another project is NotFound.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.call_judgement import TARGET_LABELS
from ringtrail.services.call_marking import SET_BY_USER, mark_target
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.leads import LEAD_KINDS
from ringtrail.services.reports.rollups import mark_calls_changed
from ringtrail.storage.models import Lead

MAX_LIST = 500


def get_lead(db: Session, project_id: int, lead_id: int) -> Lead:
    """The lead, or NotFound when it is not one of this project's."""
    lead = db.get(Lead, lead_id)
    if lead is None or lead.project_id != project_id:
        raise NotFound("no such lead")
    return lead


def list_leads(
    db: Session,
    project_id: int,
    *,
    kinds: Sequence[str] = (),
    before_id: int | None = None,
    limit: int = 50,
) -> list[Lead]:
    """The project's leads, newest first, of `kinds` (all when empty), below `before_id`."""
    unknown = [kind for kind in kinds if kind not in LEAD_KINDS]
    if unknown:
        raise InvalidInput("kind", f"must be one of {', '.join(LEAD_KINDS)}")
    query = select(Lead).where(Lead.project_id == project_id)
    if kinds:
        query = query.where(Lead.kind.in_(list(kinds)))
    if before_id is not None:
        query = query.where(Lead.id < before_id)
    query = query.order_by(Lead.id.desc()).limit(max(1, min(limit, MAX_LIST)))
    return list(db.scalars(query))


def mark_lead_target(
    db: Session,
    project_id: int,
    lead_id: int,
    user_id: int | None,
    is_target: bool | None,
    now: datetime | None = None,
) -> Lead:
    """Mark the lead target (True), not target (False) or not judged (None) by a person."""
    lead = get_lead(db, project_id, lead_id)
    if lead.kind == "call" and lead.call_id is not None:
        mark_target(db, project_id, lead.call_id, user_id, is_target)
        db.refresh(lead)
        return lead
    lead.is_target = is_target
    mark: dict[str, Any] = {
        "label": TARGET_LABELS[is_target],
        "by": SET_BY_USER,
        "user_id": user_id,
        "at": (now or datetime.now(UTC)).isoformat(),
    }
    lead.payload = {**(lead.payload or {}), "marks": [*(lead.payload or {}).get("marks", []), mark]}
    db.flush()
    mark_calls_changed(db, project_id, [lead.created_at])
    return lead
