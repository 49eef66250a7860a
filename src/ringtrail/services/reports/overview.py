"""The overview: the headline figures of a project's period (calls, and leads of every kind:
calls, forms, callback requests) and two charts (calls per day, calls by source)."""

from __future__ import annotations

from ringtrail.domain.money import cost_per
from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.services.reports.call_lists import callbacks_by_day
from ringtrail.services.reports.context import (
    CALL_COLUMNS,
    SHARE_COLUMN,
    ReportContext,
    call_totals,
    dimension_rows,
    headline,
    label_column,
)
from ringtrail.services.reports.engine import call_rows, lead_rows, regroup, sum_by
from ringtrail.services.reports.model import (
    N_,
    Chart,
    ChartKind,
    Column,
    Report,
    Row,
    Table,
    ValueKind,
)
from ringtrail.services.reports.money_reports import money_totals


def overview(context: ReportContext) -> Report:
    """Calls, target calls, missed share, calls that need a callback (linked to them), unique
    share, average wait, cost, revenue, ROMI and cost per target call, each against the
    previous period; calls per day and by source."""
    # Two narrow sums rather than one by (day, source): a year by day and source is thousands
    # of rows to add up here, each of these a few hundred summed by the database.
    by_day = regroup(
        call_rows(context.db, context.scope, Dimension.TOTAL, keep=("day",)), lambda key: key.day
    )
    by_source = regroup(
        call_rows(context.db, context.scope, Dimension.TOTAL, keep=("source",)),
        lambda key: key.source,
    )
    now = CallCounts.total(list(by_day.values()))
    before = CallCounts.total(list(call_rows(context.db, context.previous, keep=()).values()))
    money_now = money_totals(context, context.scope)
    money_before = money_totals(context, context.previous)
    leads_now = sum_by(lead_rows(context.db, context.scope, keep=("kind",)), lambda k: k.kind)
    leads_before = sum_by(lead_rows(context.db, context.previous, keep=("kind",)), lambda k: k.kind)
    all_leads, all_leads_before = sum(leads_now.values()), sum(leads_before.values())
    per_day = Table(
        "calls_per_day",
        N_("Calls per day"),
        [
            Column("day", N_("Day"), ValueKind.DATE),
            Column("calls", N_("Calls"), ValueKind.COUNT),
            Column("target", N_("Target calls"), ValueKind.COUNT),
            Column("missed", N_("Missed calls"), ValueKind.COUNT),
        ],
        [
            Row(
                {
                    "day": day,
                    "calls": by_day.get(day, CallCounts()).calls,
                    "target": by_day.get(day, CallCounts()).target,
                    "missed": by_day.get(day, CallCounts()).missed,
                },
                context.drill(day),
            )
            for day in context.period.dates()
        ],
        {"day": N_("Total"), "calls": now.calls, "target": now.target, "missed": now.missed},
    )
    source_label = label_column("source", N_("Source"))
    sources = Table(
        "by_source",
        N_("Calls by source"),
        [source_label, CALL_COLUMNS[0], SHARE_COLUMN, *CALL_COLUMNS[1:]],
        dimension_rows(context, by_source, "source", "source"),
        call_totals(now, "source"),
    )
    return context.report(
        "overview",
        headlines=[
            headline("calls", N_("Calls"), ValueKind.COUNT, now.calls, before.calls),
            headline("target", N_("Target calls"), ValueKind.COUNT, now.target, before.target),
            headline(
                "missed_share",
                N_("Missed share"),
                ValueKind.SHARE,
                now.missed_share,
                before.missed_share,
            ),
            headline(
                "needs_callback",
                N_("Calls that need a callback"),
                ValueKind.COUNT,
                sum(callbacks_by_day(context.db, context.scope).values()),
                sum(callbacks_by_day(context.db, context.previous).values()),
                drill=context.drill(needs_callback=True),
            ),
            headline(
                "unique_share",
                N_("Unique share"),
                ValueKind.SHARE,
                now.unique_share,
                before.unique_share,
            ),
            headline(
                "average_wait_seconds",
                N_("Average wait"),
                ValueKind.SECONDS,
                now.average_wait_seconds,
                before.average_wait_seconds,
            ),
            headline(
                "cost", N_("Cost"), ValueKind.MONEY, money_now.known_cost, money_before.known_cost
            ),
            headline(
                "revenue", N_("Revenue"), ValueKind.MONEY, money_now.revenue, money_before.revenue
            ),
            headline("romi", N_("ROMI"), ValueKind.RATIO, money_now.romi, money_before.romi),
            headline(
                "cost_per_target",
                N_("Cost per target call"),
                ValueKind.MONEY,
                cost_per(money_now.known_cost, now.target),
                cost_per(money_before.known_cost, before.target),
            ),
            # Leads of every kind: calls, forms and callback requests (docs/leads.md).
            headline("leads", N_("All leads"), ValueKind.COUNT, all_leads, all_leads_before),
            headline(
                "form_leads",
                N_("Form leads"),
                ValueKind.COUNT,
                leads_now.get("form", 0),
                leads_before.get("form", 0),
            ),
            headline(
                "callback_leads",
                N_("Callback requests"),
                ValueKind.COUNT,
                leads_now.get("callback", 0),
                leads_before.get("callback", 0),
            ),
            headline(
                "cost_per_lead",
                N_("Cost per lead"),
                ValueKind.MONEY,
                cost_per(money_now.known_cost, all_leads),
                cost_per(money_before.known_cost, all_leads_before),
            ),
        ],
        tables=[per_day, sources],
        charts=[
            Chart(ChartKind.LINE, "calls_per_day", "day", ["calls", "target"], N_("Calls per day")),
            Chart(ChartKind.BAR, "by_source", "source", ["calls"], N_("Calls by source")),
        ],
    )
