"""Who judged a call target or not: a person, a rule or the model, and which mark wins.

Every mark is kept as a `CallScore` (who or what set it, when, with what confidence); the
call's `is_target` and `target_set_by` show the winning one. A person's mark always wins: a
rule or the model never changes a call a person has marked, and a person's mark replaces any
rule's or model's. Between a rule and the model, the later one wins unless the call already
has a rule's mark, since rules are the owner's explicit instructions.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from ringtrail.services.deliveries.enqueue import note_call_changed
from ringtrail.services.reports.rollups import mark_calls_changed
from ringtrail.storage.models import Call, CallScore, Lead
from ringtrail.storage.models.base import utcnow

Judge = Literal["user", "rule", "model"]
JUDGES: tuple[Judge, ...] = ("user", "rule", "model")
TARGET_LABELS = {True: "target", False: "non_target", None: "cleared"}
"""The CallScore label recorded for each mark."""
_RANK = {"user": 3, "rule": 2, "model": 1}


def may_judge(call: Call, by: Judge) -> bool:
    """Whether a mark by `by` may change the call's current mark."""
    current = call.target_set_by
    if current is None or call.is_target is None:
        return True
    return _RANK[by] >= _RANK.get(current, 0)


def judge_call(
    db: Session,
    call: Call,
    is_target: bool | None,
    *,
    by: Judge,
    user_id: int | None = None,
    confidence: float | None = None,
    detail: str | None = None,
) -> bool:
    """Record a mark on `call` by `by` and apply it when it wins; True when the call changed.

    `detail` names the rule or the model version that set it. The mark is kept in the call's
    history either way, so an overridden model's opinion stays visible. Clearing (None) by a
    person removes every mark; a rule or the model never clears.
    """
    if is_target is None and by != "user":
        return False
    db.add(
        CallScore(
            call_id=call.id,
            scored_by=by,
            user_id=user_id,
            label=TARGET_LABELS[is_target],
            score=confidence,
            model_version=detail,
        )
    )
    if not may_judge(call, by):
        db.flush()
        return False
    changed = call.is_target != is_target or call.target_set_by != by
    call.is_target = is_target
    call.target_set_by = by if is_target is not None else None
    days = [call.started_at]
    if call.lead_id is not None:
        lead = db.get(Lead, call.lead_id)
        if lead is not None and lead.call_id == call.id:
            lead.is_target = is_target
            # The lead counts on the day it was created, which may not be the call's day.
            days.append(lead.created_at)
    db.flush()
    if call.project_id is not None:
        mark_calls_changed(db, call.project_id, days)
        if changed:
            note_call_changed(db, call, utcnow())
    return changed
