"""Report 2 (top campaigns with their cost) and report 8 (profit and ROMI by source and campaign).

Costs and revenue come from `services/money/returns.py`; revenue is credited under the
attribution model asked for (the project's own by default), so switching it recomputes
every period. Calls come from the engine, leads from `lead_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from ringtrail.domain.money import CENT, AttributionModel, Money, channel_key, cost_per
from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.services.errors import InvalidInput
from ringtrail.services.money.returns import (
    costs_by,
    leads_by_channel,
    money_by,
    money_by_channel,
)
from ringtrail.services.reports.context import (
    JUDGE_COLUMNS,
    TOP_ROWS,
    ReportContext,
    headline,
    judge_cells,
    label_column,
)
from ringtrail.services.reports.engine import ReportScope, call_rows, lead_rows, regroup, sum_by
from ringtrail.services.reports.model import (
    N_,
    Chart,
    ChartKind,
    Column,
    Headline,
    Report,
    Row,
    Table,
    ValueKind,
)

K = TypeVar("K", bound=Hashable)
Pair = tuple[str, str]


def attribution_model(requested: str | None, project_model: str) -> AttributionModel:
    """The model asked for, else the project's; InvalidInput naming `model` when unknown."""
    try:
        return AttributionModel(requested or project_model)
    except ValueError as exc:
        names = ", ".join(model.value for model in AttributionModel)
        raise InvalidInput("model", f"unknown attribution model; use one of: {names}") from exc


def calls_by_pair(context: ReportContext, scope: ReportScope) -> dict[Pair, CallCounts]:
    """The scope's call counts by (source, campaign)."""
    rows = call_rows(context.db, scope, Dimension.TOTAL, keep=("source", "campaign"))
    return regroup(rows, lambda key: (key.source, key.campaign))


def campaigns(context: ReportContext) -> Report:
    """Report 2: calls, target calls and what each cost, by source and campaign."""
    calls = calls_by_pair(context, context.scope)
    costs = costs_by(context.db, context.scope)
    pairs = sorted(
        set(calls) | set(costs),
        key=lambda pair: (
            -calls.get(pair, CallCounts()).calls,
            -costs.get(pair, Decimal(0)),
            pair,
        ),
    )
    rows = []
    for pair in pairs[:TOP_ROWS]:
        cells = {"source": pair[0], "campaign": pair[1]}
        cells.update(_campaign_cells(calls.get(pair, CallCounts()), costs.get(pair)))
        rows.append(Row(cells, context.drill(source=pair[0], campaign=pair[1])))
    now_calls = CallCounts.total(list(calls.values()))
    now_cost = _total_cost(costs)
    before_calls = CallCounts.total(list(calls_by_pair(context, context.previous).values()))
    before_cost = _total_cost(costs_by(context.db, context.previous))
    table = Table(
        "campaigns",
        N_("Campaigns"),
        [
            label_column("source", N_("Source")),
            label_column("campaign", N_("Campaign")),
            Column("calls", N_("Calls"), ValueKind.COUNT),
            Column("target", N_("Target calls"), ValueKind.COUNT),
            *JUDGE_COLUMNS,
            Column("target_share", N_("Target share"), ValueKind.SHARE),
            Column("cost", N_("Cost"), ValueKind.MONEY),
            Column("cost_per_call", N_("Cost per call"), ValueKind.MONEY),
            Column("cost_per_target", N_("Cost per target call"), ValueKind.MONEY),
        ],
        rows,
        {"source": N_("Total"), "campaign": "", **_campaign_cells(now_calls, now_cost)},
    )
    return context.report(
        "campaigns",
        headlines=[
            headline("calls", N_("Calls"), ValueKind.COUNT, now_calls.calls, before_calls.calls),
            headline(
                "target", N_("Target calls"), ValueKind.COUNT, now_calls.target, before_calls.target
            ),
            headline("cost", N_("Cost"), ValueKind.MONEY, now_cost, before_cost),
            headline(
                "cost_per_target",
                N_("Cost per target call"),
                ValueKind.MONEY,
                cost_per(now_cost, now_calls.target),
                cost_per(before_cost, before_calls.target),
            ),
        ],
        tables=[table],
        charts=[
            Chart(ChartKind.BAR, "campaigns", "campaign", ["calls", "target"], N_("Campaigns"))
        ],
    )


def _total_cost(costs: Mapping[Pair, Decimal]) -> Decimal | None:
    """The costs added up; None (no cost data), not 0, when there is no cost row at all."""
    return sum(costs.values(), Decimal(0)) if costs else None


def _campaign_cells(counts: CallCounts, cost: Decimal | None) -> dict[str, Any]:
    """A campaign's calls and costs; without cost data every cost figure is None, never 0."""
    return {
        "calls": counts.calls,
        "target": counts.target,
        **judge_cells(counts),
        "target_share": counts.target_share,
        "cost": None if cost is None else cost.quantize(CENT),
        "cost_per_call": cost_per(cost, counts.calls),
        "cost_per_target": cost_per(cost, counts.target),
    }


def _grouped_money(money: Mapping[Pair, Money], by: Callable[[Pair], K]) -> dict[K, Money]:
    grouped: dict[K, Money] = {}
    for pair, amount in money.items():
        group = by(pair)
        grouped[group] = grouped.get(group, Money()) + amount
    return grouped


def _profit_cells(counts: CallCounts, leads: int, money: Money) -> dict[str, Any]:
    """A group's figures; without cost data its cost, profit, ROMI and costs per are None."""
    cost = money.known_cost
    profit = money.known_profit
    return {
        "calls": counts.calls,
        "target": counts.target,
        **judge_cells(counts),
        "leads": leads,
        "customers": money.customers,
        "cost": None if cost is None else cost.quantize(CENT),
        "revenue": money.revenue.quantize(CENT),
        "profit": None if profit is None else profit.quantize(CENT),
        "romi": money.romi,
        "cost_per_call": cost_per(cost, counts.calls),
        "cost_per_target": cost_per(cost, counts.target),
        "cost_per_lead": cost_per(cost, leads),
        "cost_per_customer": cost_per(cost, money.customers),
    }


PROFIT_COLUMNS = [
    Column("calls", N_("Calls"), ValueKind.COUNT),
    Column("target", N_("Target calls"), ValueKind.COUNT),
    *JUDGE_COLUMNS,
    Column("leads", N_("Leads"), ValueKind.COUNT),
    Column("customers", N_("Customers"), ValueKind.COUNT),
    Column("cost", N_("Cost"), ValueKind.MONEY),
    Column("revenue", N_("Revenue"), ValueKind.MONEY),
    Column("profit", N_("Profit"), ValueKind.MONEY),
    Column("romi", N_("ROMI"), ValueKind.RATIO),
    Column("cost_per_call", N_("Cost per call"), ValueKind.MONEY),
    Column("cost_per_target", N_("Cost per target call"), ValueKind.MONEY),
    Column("cost_per_lead", N_("Cost per lead"), ValueKind.MONEY),
    Column("cost_per_customer", N_("Cost per customer"), ValueKind.MONEY),
]


def _money_table(
    context: ReportContext,
    key: str,
    title: str,
    labels: list[Column],
    calls: Mapping[Any, CallCounts],
    leads: Mapping[Any, int],
    money: Mapping[Any, Money],
    as_pair: Callable[[Any], Pair | tuple[str]],
) -> Table:
    groups = sorted(
        set(calls) | set(leads) | set(money),
        key=lambda group: (
            -money.get(group, Money()).revenue,
            -money.get(group, Money()).cost,
            -calls.get(group, CallCounts()).calls,
            group,
        ),
    )
    rows = []
    for group in groups[:TOP_ROWS]:
        values = as_pair(group)
        cells = {column.key: value for column, value in zip(labels, values, strict=True)}
        cells.update(
            _profit_cells(
                calls.get(group, CallCounts()), leads.get(group, 0), money.get(group, Money())
            )
        )
        drill = context.drill(
            **{
                column.key: value
                for column, value in zip(labels, values, strict=True)
                if column.key in DRILL_KEYS
            }
        )
        if "channel" in cells:
            cells["channel"] = CHANNEL_LABELS.get(cells["channel"], cells["channel"])
        rows.append(Row(cells, drill))
    totals: dict[str, Any] = {labels[0].key: N_("Total")}
    totals.update({column.key: "" for column in labels[1:]})
    totals.update(
        _profit_cells(
            CallCounts.total(list(calls.values())),
            sum(leads.values()),
            Money.total(list(money.values())),
        )
    )
    return Table(key, title, [*labels, *PROFIT_COLUMNS], rows, totals)


def _money_headlines(
    now: Money, before: Money, calls_now: CallCounts, calls_before: CallCounts
) -> list[Headline]:
    return [
        headline("cost", N_("Cost"), ValueKind.MONEY, now.known_cost, before.known_cost),
        headline("revenue", N_("Revenue"), ValueKind.MONEY, now.revenue, before.revenue),
        headline("profit", N_("Profit"), ValueKind.MONEY, now.known_profit, before.known_profit),
        headline("romi", N_("ROMI"), ValueKind.RATIO, now.romi, before.romi),
        headline(
            "cost_per_target",
            N_("Cost per target call"),
            ValueKind.MONEY,
            cost_per(now.known_cost, calls_now.target),
            cost_per(before.known_cost, calls_before.target),
        ),
        headline("customers", N_("Customers"), ValueKind.COUNT, now.customers, before.customers),
    ]


CHANNEL_COLUMN = Column("channel", N_("Channel"), ValueKind.TEXT, translate=True)
"""The channel of a source (domain/sources.py CHANNELS), translated by the dashboard."""
CHANNEL_LABELS: dict[str, str] = {
    "paid_search": N_("Paid search"),
    "paid_social": N_("Paid social"),
    "organic_search": N_("Organic search"),
    "organic_social": N_("Organic social"),
    "referral": N_("Referral"),
    "email": N_("E-mail"),
    "display": N_("Display"),
    "direct": N_("Direct"),
    "other": N_("Other"),
}
"""The words for every channel of domain/sources.py `CHANNELS`."""
DRILL_KEYS = frozenset({"source", "campaign"})
"""The label columns that are calls-log filters too (a channel row drills to its source)."""


def calls_by_channel(context: ReportContext, scope: ReportScope) -> dict[Pair, CallCounts]:
    """The scope's call counts by (source, channel), the channel read off each call's medium."""
    rows = call_rows(context.db, scope, Dimension.MEDIUM, keep=("source", "value"))
    return regroup(rows, lambda key: channel_key(key.source, key.value))


def profit(context: ReportContext) -> Report:
    """Report 8: cost, revenue, profit, ROMI and cost per call/target/lead/customer."""
    money = money_by(context.db, context.scope, context.model)
    calls = calls_by_pair(context, context.scope)
    leads = sum_by(
        lead_rows(context.db, context.scope, keep=("source", "campaign")),
        lambda key: (key.source, key.campaign),
    )
    by_source = _money_table(
        context,
        "by_source",
        N_("By source"),
        [label_column("source", N_("Source")), CHANNEL_COLUMN],
        calls_by_channel(context, context.scope),
        leads_by_channel(context.db, context.scope),
        money_by_channel(context.db, context.scope, context.model),
        lambda key: key,
    )
    by_campaign = _money_table(
        context,
        "by_campaign",
        N_("By campaign"),
        [label_column("source", N_("Source")), label_column("campaign", N_("Campaign"))],
        calls,
        leads,
        money,
        lambda pair: pair,
    )
    before = Money.total(list(money_by(context.db, context.previous, context.model).values()))
    calls_before = CallCounts.total(list(calls_by_pair(context, context.previous).values()))
    now = Money.total(list(money.values()))
    return context.report(
        "profit",
        headlines=_money_headlines(
            now, before, CallCounts.total(list(calls.values())), calls_before
        ),
        tables=[by_source, by_campaign],
        charts=[
            Chart(
                ChartKind.BAR, "by_source", "source", ["cost", "revenue"], N_("Cost and revenue")
            ),
            Chart(ChartKind.BAR, "by_source", "source", ["romi"], N_("ROMI")),
        ],
        notes=[
            N_(
                "Revenue is from won deals, counted in the period of the call or lead that "
                "started them and credited under the attribution model chosen."
            )
        ],
    )


def money_totals(context: ReportContext, scope: ReportScope) -> Money:
    """The scope's cost, revenue and customers over every source and campaign."""
    return Money.total(list(money_by(context.db, scope, context.model).values()))
