"""Ad costs in: per day and source/campaign, from JSON or CSV; a re-import replaces, never adds.

For every (day, source) an import holds, the project's existing rows of that day and source
are deleted before the new ones are written: importing a day twice never doubles it, and an
import of Google's costs never touches Meta's. Lines of one import with the same day, source
and campaign are added together (exports split campaigns by ad group or device).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.services.errors import InvalidInput
from ringtrail.services.money.tables import (
    CsvLine,
    parse_count,
    parse_date,
    parse_decimal,
    read_csv,
    where,
)
from ringtrail.storage.models import AdCost, Project

MAX_COST = Decimal("999999999999.99")
COST_COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("date", "day", "dt"),
    "source": ("utm_source", "source"),
    "medium": ("utm_medium", "medium"),
    "campaign": ("utm_campaign", "campaign", "campaign_name"),
    "cost": ("cost", "spend", "amount", "spent"),
    "currency": ("currency", "currency_code"),
    "clicks": ("clicks",),
    "impressions": ("impressions", "impr", "shows"),
}


@dataclass(frozen=True)
class CostRow:
    """One line of a costs import; `line` is the CSV line it came from, if any."""

    day: date
    source: str
    cost: Decimal
    medium: str = "cpc"
    campaign: str = ""
    currency: str | None = None
    clicks: int | None = None
    impressions: int | None = None
    line: int | None = None


@dataclass(frozen=True)
class CostImport:
    """What an import did: rows written and (day, source) pairs whose old rows it replaced."""

    rows: int
    days_replaced: int


def _check(project: Project, row: CostRow, index: int) -> None:
    def fail(column: str, message: str) -> InvalidInput:
        return InvalidInput(where(row.line, index, column), message)

    if not row.source.strip():
        raise fail("source", "the source is empty")
    if len(row.source) > 100 or len(row.medium) > 100 or len(row.campaign) > 500:
        raise fail("campaign", "source and medium may be 100 characters, campaign 500")
    if row.cost < 0 or row.cost > MAX_COST:
        raise fail("cost", "the cost must be between 0 and 999999999999.99")
    if row.currency and row.currency.upper() != project.currency:
        raise fail(
            "currency", f"currency {row.currency.upper()} is not the project's {project.currency}"
        )


def import_costs(db: Session, project: Project, rows: Sequence[CostRow]) -> CostImport:
    """Write `rows` for `project`, replacing every (day, source) they hold; all or nothing.

    Raises InvalidInput naming the first bad row before anything is written.
    """
    merged: dict[tuple[date, str, str], CostRow] = {}
    for index, row in enumerate(rows, start=1):
        _check(project, row, index)
        key = (row.day, row.source.strip(), row.campaign.strip())
        previous = merged.get(key)
        merged[key] = row if previous is None else _add(previous, row)

    days_by_source: dict[str, set[date]] = defaultdict(set)
    for day, source, _campaign in merged:
        days_by_source[source].add(day)
    replaced = 0
    for source, days in days_by_source.items():
        condition = (
            AdCost.project_id == project.id,
            AdCost.source == source,
            AdCost.day.in_(sorted(days)),
        )
        replaced += len(set(db.scalars(select(AdCost.day).where(*condition).distinct())))
        db.execute(delete(AdCost).where(*condition))
    db.add_all(
        AdCost(
            project_id=project.id,
            day=day,
            source=source,
            medium=row.medium.strip() or "cpc",
            campaign=campaign,
            cost=row.cost.quantize(Decimal("0.01")),
            currency=project.currency,
            clicks=row.clicks,
            impressions=row.impressions,
        )
        for (day, source, campaign), row in merged.items()
    )
    db.flush()
    return CostImport(rows=len(merged), days_replaced=replaced)


def _add(first: CostRow, second: CostRow) -> CostRow:
    def plus(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return CostRow(
        day=first.day,
        source=first.source,
        cost=first.cost + second.cost,
        medium=first.medium,
        campaign=first.campaign,
        currency=first.currency,
        clicks=plus(first.clicks, second.clicks),
        impressions=plus(first.impressions, second.impressions),
        line=first.line,
    )


def _cost_row(line: CsvLine) -> CostRow:
    return CostRow(
        day=line.required("day", parse_date),
        source=line.required("source", str),
        cost=line.required("cost", parse_decimal),
        medium=line.text("medium") or "cpc",
        campaign=line.text("campaign"),
        currency=line.text("currency") or None,
        clicks=line.value("clicks", parse_count),
        impressions=line.value("impressions", parse_count),
        line=line.line,
    )


def parse_costs_csv(text: str) -> list[CostRow]:
    """The rows of a costs CSV (docs/money.md); InvalidInput names the line and column."""
    return [_cost_row(line) for line in read_csv(text, COST_COLUMNS, ("day", "source", "cost"))]


def list_costs(db: Session, project: Project, period: Period) -> list[AdCost]:
    """The project's cost rows of the period's days, by day, source and campaign."""
    return list(
        db.scalars(
            select(AdCost)
            .where(
                AdCost.project_id == project.id,
                AdCost.day >= period.start,
                AdCost.day <= period.end,
            )
            .order_by(AdCost.day, AdCost.source, AdCost.campaign)
        )
    )
