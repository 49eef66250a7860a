"""Report rollups: per-day sums of calls, leads, visits and won-deal revenue, and which days
are built or stale.

The rows are a cache of the raw tables, kept by services/reports/rollups.py (docs/reports.md,
"How reports stay fast: rollups"). Key columns are never NULL: an unknown value is "".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.models.base import Base, IdType


class CallMeasures:
    """The call counts every call rollup row holds, named as
    `ringtrail.domain.reports.counts.MEASURES`."""

    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    unique: Mapped[int] = mapped_column(Integer, default=0)
    first_time: Mapped[int] = mapped_column(Integer, default=0)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[int] = mapped_column(Integer, default=0)
    non_target: Mapped[int] = mapped_column(Integer, default=0)
    unique_target: Mapped[int] = mapped_column(Integer, default=0)
    first_target: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    waited: Mapped[int] = mapped_column(Integer, default=0)
    target_by_user: Mapped[int] = mapped_column(Integer, default=0)
    target_by_rule: Mapped[int] = mapped_column(Integer, default=0)
    target_by_model: Mapped[int] = mapped_column(Integer, default=0)


class CallRollup(CallMeasures, Base):
    """Call counts of one local day, one dimension value and one filter combination.

    The primary key starts with (project_id, dimension, day), so a report's query for one
    dimension over a period is one index range scan.
    """

    __tablename__ = "call_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    is_first_time: Mapped[bool] = mapped_column(Boolean, primary_key=True)


class CallSourceRollup(CallMeasures, Base):
    """Call counts of one local day by dimension value and source: the day's `call_rollups`
    rows summed over status, first-time and (except for the `total` dimension) campaign.

    Written with the day's `call_rollups` rows and dropped with them, so a built day has
    both. Reports that neither filter nor group by those columns read these (a third to a
    tenth of the rows), and whole months are summed from them.
    """

    __tablename__ = "call_source_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)


class CallMonthRollup(CallMeasures, Base):
    """Call counts of one whole past local month by dimension value and source: the month's
    `call_rollups` rows summed, for long reports (an eighth to a 150th of the rows).

    Narrower than the daily rows: status and first-time are summed over, and so is the
    campaign except for the `total` dimension. The `day` dimension (value: the ISO date) keeps
    the month's daily totals by source for per-day series. Rebuilding a day of the month
    drops its `rollup_months` row in the same transaction, so a month is only read while it
    equals the sum of its days.
    """

    __tablename__ = "call_month_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)


class RollupMonth(Base):
    """A whole local month whose `call_month_rollups` rows are built (the month's lock too)."""

    __tablename__ = "rollup_months"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class LeadRollup(Base):
    """Leads of one local day by kind, source, campaign and target flag ('y', 'n', '')."""

    __tablename__ = "lead_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)
    target: Mapped[str] = mapped_column(String(1), primary_key=True)
    leads: Mapped[int] = mapped_column(Integer, default=0)


class RollupDay(Base):
    """A local day whose call and lead rollups have been built (even if it had no calls)."""

    __tablename__ = "rollup_days"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class RollupDirty(Base):
    """A local day whose call and lead rollups are stale; `generation` counts the markings."""

    __tablename__ = "rollup_dirty"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)


class VisitRollup(Base):
    """Visits (bots left out) of one past local day by source, medium, campaign, landing page."""

    __tablename__ = "visit_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    medium: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)
    landing_page: Mapped[str] = mapped_column(String(300), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)


class VisitRollupDay(Base):
    """A local day whose visits are rolled up (visit_rollups holds the whole day)."""

    __tablename__ = "visit_rollup_days"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class VisitSourceRollup(Base):
    """Visits of one past local day by source, medium and campaign: `visit_rollups` summed
    over landing pages, for the reports that do not group by the page (far fewer rows)."""

    __tablename__ = "visit_source_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    medium: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)


class MoneyRollup(Base):
    """Won-deal revenue and customers of one local day credited to (source, campaign) under
    one attribution model.

    A deal counts on the local day of the call or lead that started it (else the day it
    closed); every model's credit is kept, so switching the project's model needs no rebuild.
    Built with the day's call and lead rollups (`rollup_days` says which days are built).
    """

    __tablename__ = "money_rollups"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(500), primary_key=True)
    revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal("0"))
    customers: Mapped[float] = mapped_column(Float, default=0.0)
