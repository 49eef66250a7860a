"""The classifier job: switched-on models label calls that ended; models retrain as labels arrive.

Each pass, for every project with a model: train the next version when enough people's marks
arrived since the latest one (services.scoring.retrain), then let the switched-on version
judge up to `limit` ended calls it has not judged yet. Each project is its own transaction,
so one project's failure (a model written by another version, say) leaves the others alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.services.errors import ServiceError
from ringtrail.services.scoring import active_model, retrain, score_calls, unscored_calls
from ringtrail.storage.models import ScoringModel

log = logging.getLogger(__name__)

SCORE_LIMIT = 200


@dataclass(frozen=True)
class ScoringReport:
    """What one pass did: calls judged, of them marked, versions trained, projects failed."""

    judged: int = 0
    marked: int = 0
    trained: int = 0
    failed: int = 0


def score_and_retrain(
    sessions: sessionmaker[Session], now: datetime, *, limit: int = SCORE_LIMIT
) -> ScoringReport:
    """One pass over every project that has a model."""
    with sessions() as db:
        projects = list(db.scalars(select(ScoringModel.project_id).distinct()))
    judged = marked = trained = failed = 0
    for project_id in projects:
        try:
            with sessions() as db:
                retrained = retrain(db, project_id, now) is not None
                model = active_model(db, project_id)
                calls = unscored_calls(db, model, limit) if model is not None else []
                project_marked = score_calls(db, calls, model) if model is not None else 0
                db.commit()
            trained += int(retrained)
            judged += len(calls)
            marked += project_marked
        except (ServiceError, ValueError):
            failed += 1
            log.exception("scoring: project %d was skipped this pass", project_id)
    return ScoringReport(judged=judged, marked=marked, trained=trained, failed=failed)
