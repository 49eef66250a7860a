"""Test helper: visitors, visits and leads stored the way tracking stores them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.storage.models import Lead, Project, Visit, Visitor

_serial = itertools.count(1)


def add_visitor(db: Session, project: Project, first_seen: datetime) -> Visitor:
    """A visitor of `project` first seen at `first_seen`."""
    visitor = Visitor(
        project_id=project.id,
        public_id=f"v{next(_serial):012d}",
        first_seen_at=first_seen,
        last_seen_at=first_seen,
    )
    db.add(visitor)
    db.flush()
    return visitor


def add_visit(
    db: Session,
    visitor: Visitor,
    started_at: datetime,
    source: str,
    medium: str = "cpc",
    campaign: str | None = None,
) -> Visit:
    """A visit of `visitor` from `source`/`medium`/`campaign`."""
    visit = Visit(
        project_id=visitor.project_id,
        visitor_id=visitor.id,
        started_at=started_at,
        last_seen_at=started_at,
        source=source,
        medium=medium,
        campaign=campaign,
    )
    db.add(visit)
    db.flush()
    return visit


def add_lead(db: Session, project: Project, created_at: datetime, **values: Any) -> Lead:
    """A form lead of `project` created at `created_at`."""
    lead = Lead(project_id=project.id, kind=values.pop("kind", "form"), **values)
    lead.created_at = created_at
    db.add(lead)
    db.flush()
    return lead
