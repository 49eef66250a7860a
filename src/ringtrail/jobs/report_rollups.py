"""The rollup job: rebuilds the report rollups of stale days and rolls up past days' visits.

Writers mark the days they change (services/reports/rollups.py); each pass rebuilds up to a
limit of them, latest first (with their month's rollups for days of past months), builds the
month rollups of a month just ended, then rolls up the visits of whole past days. Any number of
passes may run at once: a day being rebuilt is locked, a visit day is claimed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ringtrail.services.reports.rollups import (
    REFRESH_LIMIT,
    VISIT_DAYS_LIMIT,
    refresh_all_visits,
    refresh_dirty,
    refresh_months,
)


@dataclass(frozen=True)
class RollupReport:
    """What one pass rebuilt: stale call/lead days, visit days rolled up, months summed."""

    days: int
    visit_days: int
    months: int = 0


def refresh_report_rollups(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    limit: int = REFRESH_LIMIT,
    visit_limit: int = VISIT_DAYS_LIMIT,
) -> RollupReport:
    """One pass: up to `limit` stale days, the months just ended, then up to `visit_limit`
    visit days per project."""
    with sessions() as db:
        days = refresh_dirty(db, limit, now)
        months = refresh_months(db, now)
        visit_days = refresh_all_visits(db, now, visit_limit)
    return RollupReport(days=days, visit_days=visit_days, months=months)
