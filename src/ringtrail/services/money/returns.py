"""Money figures of a report scope: ad costs and won-deal revenue by (source, campaign).

Which period a deal counts in: the period of the call or lead that started it (its linked
call's start, else its linked lead's creation), not the day the deal closed. That way the
costs of a campaign's days and the revenue of the calls those days brought line up, and a
period's figures do not move when a deal closes weeks later (they grow, in the right
period). A deal linked to nothing counts on the day it closed (else the day it was
imported) and is credited to ("(none)", "").

Revenue is credited under the project's attribution model (domain/money.py). The rollup job
keeps every model's credit per local day in `money_rollups` (built with the day's call and
lead rollups, stale when they are), so switching the model recomputes every period at once;
days not built yet (today) are credited from the raw deals, the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from ringtrail.domain.attribution import CallOrigin, origin_of
from ringtrail.domain.money import (
    CENT,
    NO_TOUCH_CHANNEL,
    AttributionModel,
    CreditKey,
    Money,
    Touch,
    channel_key,
    credit,
    touch_channel,
)
from ringtrail.domain.reports.periods import local_day
from ringtrail.services.reports.engine import (
    ReportScope,
    day_ranges,
    rolled_days_condition,
    rolled_up_days,
    text,
)
from ringtrail.storage.models import AdCost, Call, Deal, Lead, MoneyRollup, Visit

WON = "won"


def split_amount(amount: Decimal, shares: Sequence[tuple[CreditKey, Fraction]]) -> list[Decimal]:
    """`amount` shared out in cents; the last share takes the rounding rest, so none is lost."""
    parts: list[Decimal] = []
    for _key, share in shares[:-1]:
        part = amount * share.numerator / share.denominator
        parts.append(part.quantize(CENT))
    parts.append(amount - sum(parts, Decimal(0)))
    return parts


def _keep(scope: ReportScope, key: CreditKey) -> bool:
    filters = scope.filters
    if filters.sources and key[0] not in filters.sources:
        return False
    return not (filters.campaigns and key[1] not in filters.campaigns)


def costs_by(db: Session, scope: ReportScope) -> dict[CreditKey, Decimal]:
    """The scope's ad costs (its local days, source and campaign filters) by (source, campaign)."""
    query = (
        select(AdCost.source, AdCost.campaign, func.sum(AdCost.cost))
        .where(
            AdCost.project_id == scope.project_id,
            AdCost.day >= scope.period.start,
            AdCost.day <= scope.period.end,
        )
        .group_by(AdCost.source, AdCost.campaign)
    )
    if scope.filters.sources:
        query = query.where(AdCost.source.in_(scope.filters.sources))
    if scope.filters.campaigns:
        query = query.where(AdCost.campaign.in_(scope.filters.campaigns))
    return {
        (source, campaign or ""): Decimal(total or 0).quantize(CENT)
        for source, campaign, total in db.execute(query)
    }


def _own_touch(at: datetime, source: str | None, medium: str | None, campaign: str | None) -> Touch:
    return Touch(at, source or "", medium or "", campaign or "")


def _visits_of(
    db: Session, project_id: int, visitor_ids: Iterable[int], before: datetime
) -> dict[int, list[Touch]]:
    ids = sorted(set(visitor_ids))
    touches: dict[int, list[Touch]] = defaultdict(list)
    # Chunked so the IN list stays within every driver's parameter limit.
    for offset in range(0, len(ids), 5000):
        query = select(
            Visit.visitor_id, Visit.started_at, Visit.source, Visit.medium, Visit.campaign
        ).where(
            Visit.visitor_id.in_(ids[offset : offset + 5000]),
            Visit.project_id == project_id,
            Visit.started_at < before,
            Visit.is_bot.is_(False),
        )
        for row in db.execute(query):
            touches[row.visitor_id].append(
                _own_touch(row.started_at, row.source, row.medium, row.campaign)
            )
    return touches


def _won_deals(db: Session, project_id: int, start: datetime, end: datetime) -> list[Row[Any]]:
    """The won deals whose call (else lead, else close or import) falls in [start, end).

    Three queries, one per kind of start, so each is a range scan on its own index (calls and
    leads by project and time); one query on the coalesced instant joins whole tables.
    """
    columns = (
        Deal.revenue,
        Call.started_at.label("call_at"),
        Call.attribution_kind,
        Call.visitor_id.label("call_visitor"),
        Call.source.label("call_source"),
        Call.medium.label("call_medium"),
        Call.campaign.label("call_campaign"),
        Lead.created_at.label("lead_at"),
        Lead.visitor_id.label("lead_visitor"),
        Lead.source.label("lead_source"),
        Lead.medium.label("lead_medium"),
        Lead.campaign.label("lead_campaign"),
        func.coalesce(Deal.closed_at, Deal.created_at).label("closed_at"),
    )
    won = (Deal.project_id == project_id, Deal.status == WON)
    by_call = (
        select(*columns)
        .select_from(Deal)
        .join(Call, Call.id == Deal.call_id)
        .outerjoin(Lead, Lead.id == Deal.lead_id)
        .where(*won, Call.project_id == project_id, Call.started_at >= start, Call.started_at < end)
    )
    by_lead = (
        select(*columns)
        .select_from(Deal)
        .outerjoin(Call, Call.id == Deal.call_id)
        .join(Lead, Lead.id == Deal.lead_id)
        .where(
            *won,
            Deal.call_id.is_(None),
            Lead.project_id == project_id,
            Lead.created_at >= start,
            Lead.created_at < end,
        )
    )
    closed = func.coalesce(Deal.closed_at, Deal.created_at)
    unlinked = (
        select(*columns)
        .select_from(Deal)
        .outerjoin(Call, Call.id == Deal.call_id)
        .outerjoin(Lead, Lead.id == Deal.lead_id)
        .where(*won, Deal.call_id.is_(None), Deal.lead_id.is_(None), closed >= start, closed < end)
    )
    rows: list[Row[Any]] = []
    for query in (by_call, by_lead, unlinked):
        rows.extend(db.execute(query))
    return rows


Credits = dict[tuple[str, date, CreditKey], tuple[Decimal, float]]
"""Revenue and customers by (model, local day, (source, campaign))."""


def deal_credits(
    db: Session,
    project_id: int,
    zone: ZoneInfo,
    ranges: Sequence[tuple[datetime, datetime]],
    models: Sequence[AttributionModel] = tuple(AttributionModel),
) -> Credits:
    """The won deals counted in the UTC `ranges`, credited under each of `models`.

    Each deal counts on the local day of its starting call or lead (else of its close) and
    is shared over the touches of its visitor: their visits up to that call or lead. A call
    from a static number is its own single touch; a deal without touches goes to
    ("(none)", "").
    """
    credits: Credits = {}
    for start, end in ranges:
        deals = _won_deals(db, project_id, start, end)
        visitor_ids = [
            visitor
            for row in deals
            if (visitor := row.call_visitor or row.lead_visitor) is not None
            and origin_of(row.attribution_kind) is not CallOrigin.AD
        ]
        visits = _visits_of(db, project_id, visitor_ids, end)
        for row in deals:
            day = local_day(row.call_at or row.lead_at or row.closed_at, zone)
            touches = _touches_of(row, visits)
            for model in models:
                shares = credit(touches, model)
                amounts = split_amount(row.revenue, shares)
                for (key, share), amount in zip(shares, amounts, strict=True):
                    where = (model.value, day, (text(key[0]), text(key[1])))
                    revenue, customers = credits.get(where, (Decimal(0), 0.0))
                    credits[where] = (revenue + amount, customers + float(share))
    return credits


def _rolled_up_revenue(
    db: Session, scope: ReportScope, model: AttributionModel, rolled: set[date]
) -> dict[CreditKey, tuple[Decimal, float]]:
    query = (
        select(
            MoneyRollup.source,
            MoneyRollup.campaign,
            func.sum(MoneyRollup.revenue),
            func.sum(MoneyRollup.customers),
        )
        .where(
            MoneyRollup.project_id == scope.project_id,
            MoneyRollup.model == model.value,
            rolled_days_condition(MoneyRollup.day, rolled),
        )
        .group_by(MoneyRollup.source, MoneyRollup.campaign)
    )
    if scope.filters.sources:
        query = query.where(MoneyRollup.source.in_(scope.filters.sources))
    if scope.filters.campaigns:
        query = query.where(MoneyRollup.campaign.in_(scope.filters.campaigns))
    return {
        (source, campaign): (Decimal(revenue or 0).quantize(CENT), float(customers or 0))
        for source, campaign, revenue, customers in db.execute(query)
    }


def money_by(
    db: Session, scope: ReportScope, model: AttributionModel, *, raw: bool = False
) -> dict[CreditKey, Money]:
    """Cost, revenue and customers of the scope by (source, campaign), revenue under `model`.

    Costs are the ad costs of the period's local days; revenue and customers come from the
    won deals whose starting call or lead falls in the period (see the module docstring and
    `deal_credits`): built days from `money_rollups`, the others (and every day with
    `raw=True`) credited from the raw deals. The source and campaign filters apply to the
    credited keys.
    """
    result: dict[CreditKey, Money] = defaultdict(Money)
    for key, cost in costs_by(db, scope).items():
        result[key] = result[key] + Money(cost=cost, costed=True)
    period = scope.period
    rolled = set() if raw else rolled_up_days(db, scope.project_id, period)
    if rolled:
        for key, (revenue, customers) in _rolled_up_revenue(db, scope, model, rolled).items():
            result[key] = result[key] + Money(revenue=revenue, customers=customers)
    missing = [day for day in period.dates() if day not in rolled]
    if missing:
        ranges = day_ranges(missing, scope.zone)
        credits = deal_credits(db, scope.project_id, scope.zone, ranges, (model,))
        for (_model, _day, key), (revenue, customers) in credits.items():
            if _keep(scope, key):
                result[key] = result[key] + Money(revenue=revenue, customers=customers)
    return dict(result)


def money_by_channel(
    db: Session, scope: ReportScope, model: AttributionModel
) -> dict[CreditKey, Money]:
    """Cost, revenue and customers of the scope by (source, channel), revenue under `model`.

    The same money as `money_by`, kept apart by channel (domain/money.py `channel_key`): an
    ad cost only meets the revenue credited to visits of its own source and channel, so the
    spend on Google Ads is never set against the revenue of organic Google visits. Revenue is
    credited from the raw deals (the rollups keep no medium); the source and campaign filters
    apply as in `money_by`.
    """
    result: dict[CreditKey, Money] = defaultdict(Money)
    costs = (
        select(AdCost.source, AdCost.medium, AdCost.campaign, func.sum(AdCost.cost))
        .where(
            AdCost.project_id == scope.project_id,
            AdCost.day >= scope.period.start,
            AdCost.day <= scope.period.end,
        )
        .group_by(AdCost.source, AdCost.medium, AdCost.campaign)
    )
    for source, medium, campaign, total in db.execute(costs):
        if not _keep(scope, (source, campaign or "")):
            continue
        key = channel_key(source, medium or "")
        cost = Decimal(total or 0).quantize(CENT)
        result[key] = result[key] + Money(cost=cost, costed=True)
    for start, end in day_ranges(list(scope.period.dates()), scope.zone):
        deals = _won_deals(db, scope.project_id, start, end)
        visitor_ids = [
            visitor
            for row in deals
            if (visitor := row.call_visitor or row.lead_visitor) is not None
            and origin_of(row.attribution_kind) is not CallOrigin.AD
        ]
        visits = _visits_of(db, scope.project_id, visitor_ids, end)
        for row in deals:
            touches = _touches_of(row, visits)
            shares = credit(touches, model, touch_channel, no_touch=NO_TOUCH_CHANNEL)
            amounts = split_amount(row.revenue, [(key[:2], part) for key, part in shares])
            for ((source, campaign, channel), share), amount in zip(shares, amounts, strict=True):
                if _keep(scope, (text(source), text(campaign))):
                    key = (text(source), channel)
                    result[key] = result[key] + Money(revenue=amount, customers=float(share))
    return dict(result)


def leads_by_channel(db: Session, scope: ReportScope) -> dict[CreditKey, int]:
    """The scope's leads (created in its period, source and campaign filters) by (source,
    channel), to stand next to `money_by_channel`."""
    start, end = scope.period.utc_bounds(scope.zone)
    query = (
        select(Lead.source, Lead.medium, Lead.campaign, func.count())
        .where(Lead.project_id == scope.project_id, Lead.created_at >= start, Lead.created_at < end)
        .group_by(Lead.source, Lead.medium, Lead.campaign)
    )
    result: dict[CreditKey, int] = defaultdict(int)
    for source, medium, campaign, count in db.execute(query):
        if _keep(scope, (text(source), text(campaign))):
            result[channel_key(text(source), text(medium))] += count
    return dict(result)


def _touches_of(row: Row[Any], visits: dict[int, list[Touch]]) -> list[Touch]:
    """The touches that led to one deal row of `money_by`'s query."""
    if row.call_at is not None:
        at, visitor = row.call_at, row.call_visitor
        own = (row.call_source, row.call_medium, row.call_campaign)
        if origin_of(row.attribution_kind) is CallOrigin.AD:
            return [_own_touch(at, *own)] if own[0] else []
    elif row.lead_at is not None:
        at, visitor = row.lead_at, row.lead_visitor
        own = (row.lead_source, row.lead_medium, row.lead_campaign)
    else:
        return []
    before = [touch for touch in visits.get(visitor, []) if touch.at <= at] if visitor else []
    if before:
        return before
    return [_own_touch(at, *own)] if own[0] else []
