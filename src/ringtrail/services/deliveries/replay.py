"""An admin sends a delivery again: a rejected, dead or skipped one goes back to pending with
its tries reset, and the audit log says who did it. The destination's dedupe key stays the
same, so replaying one that did arrive is dropped by the destination, not counted twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ringtrail.services.audit import record
from ringtrail.services.errors import Conflict, NotFound
from ringtrail.storage.models import OutboundDelivery, Project

REPLAYABLE = ("rejected", "dead", "skipped")


def replay_delivery(
    db: Session, project: Project, delivery_id: int, now: datetime
) -> OutboundDelivery:
    """Put delivery `delivery_id` back in the queue, due now; Conflict unless it is rejected,
    dead or skipped (a pending one waits already; an accepted one arrived)."""
    row = db.get(OutboundDelivery, delivery_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"no delivery {delivery_id} in this project")
    if row.status not in REPLAYABLE:
        raise Conflict(
            f"delivery {delivery_id} is {row.status}: only {', '.join(REPLAYABLE)} ones replay"
        )
    before = {"status": row.status, "attempts": row.attempts, "reason": row.reason}
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now
    row.reason_code = None
    row.reason = None
    row.error = None
    row.claimed_by = None
    row.claimed_until = None
    db.flush()
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="delivery.replay",
        object_type="outbound_deliveries",
        object_id=row.id,
        changes={
            "status": {"old": before["status"], "new": "pending"},
            "attempts": {"old": before["attempts"], "new": 0},
            "reason": {"old": before["reason"], "new": None},
        },
    )
    return row
