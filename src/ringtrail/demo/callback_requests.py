"""Demo callback requests: the widget's side of the demo's callback leads.

Each callback lead of the demo gets its request: mostly connected within a minute, some the
business or the customer did not answer. Outcomes are drawn from a
generator seeded by the lead's own time, so the demo's other draws are not disturbed and the
same demo is made every time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.demo.ids import bulk_insert
from ringtrail.storage.models import CallbackRequest


def callback_request_row(
    project_id: int, lead_id: int, phone: str, requested_at: datetime
) -> dict[str, Any]:
    """The request of one callback lead, with a plausible outcome."""
    rng = random.Random(int(requested_at.timestamp()))
    row: dict[str, Any] = {
        "project_id": project_id,
        "lead_id": lead_id,
        "phone_e164": phone,
        "language": "uk",
        "requested_at": requested_at,
        "status": "unreached",
        "due_at": None,
        "scheduled": False,
        "attempts": 2,
        "last_outcome": None,
        "connected_at": None,
        "seconds_to_connect": None,
        "talk_seconds": None,
        "payload": {},
        "created_at": requested_at,
    }
    roll = rng.random()
    if roll < 0.72:
        to_connect = rng.randint(14, 75)
        row.update(
            status="connected",
            attempts=1,
            last_outcome="connected",
            connected_at=requested_at + timedelta(seconds=to_connect),
            seconds_to_connect=to_connect,
            talk_seconds=rng.randint(25, 420),
        )
    elif roll < 0.88:
        row["last_outcome"] = "business_no_answer"
    else:
        row["last_outcome"] = "customer_no_answer"
    return row


def store_callback_requests(db: Session, rows: Sequence[tuple[int, int, str, datetime]]) -> int:
    """Insert the requests of (project id, lead id, phone, requested at) callback leads."""
    bulk_insert(
        db,
        CallbackRequest,
        [callback_request_row(project, lead, phone, at) for project, lead, phone, at in rows],
    )
    return len(rows)
