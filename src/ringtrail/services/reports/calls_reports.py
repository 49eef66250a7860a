"""Reports 1, 3, 4 and 6: keywords, lead mix, origin and geography, and shared table helpers.

Every figure is read through the engine (`call_rows`, `lead_rows`) for the period and again
for the previous period (the headlines' comparison).
"""

from __future__ import annotations

from typing import Any

from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.facts import (
    NOT_SET,
    CallOrigin,
)
from ringtrail.domain.reports.rollup import Dimension, LeadKey
from ringtrail.services.reports.context import (
    CALL_COLUMNS,
    SHARE_COLUMN,
    TOP_ROWS,
    ReportContext,
    call_cells,
    call_totals,
    dimension_rows,
    headline,
    label_column,
    share_of,
)
from ringtrail.services.reports.engine import (
    ReportScope,
    call_rows,
    lead_rows,
    sum_by,
    total,
)
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


def by_value(
    context: ReportContext, scope: ReportScope, dimension: Dimension
) -> dict[str, CallCounts]:
    """The scope's call counts by the value of `dimension`."""
    # Kept by value alone, the rows are one per value already: no regrouping.
    return {
        key.value: counts
        for key, counts in call_rows(context.db, scope, dimension, keep=("value",)).items()
    }


def totals_of(context: ReportContext, scope: ReportScope) -> CallCounts:
    """All the scope's calls added up."""
    return total(call_rows(context.db, scope, Dimension.TOTAL, keep=()).values())


def dimension_table(
    context: ReportContext,
    key: str,
    title: str,
    groups: dict[str, CallCounts],
    label: Column,
    drill_key: str,
    limit: int | None = None,
) -> Table:
    """A table of call figures by one dimension's values, most calls first."""
    columns = [label, CALL_COLUMNS[0], SHARE_COLUMN, *CALL_COLUMNS[1:]]
    rows = dimension_rows(context, groups, label.key, drill_key, limit=limit)
    totals = call_totals(CallCounts.total(list(groups.values())), label.key)
    return Table(key, title, columns, rows, totals)


def keywords(context: ReportContext) -> Report:
    """Report 1: calls by the keyword that brought them."""
    current = by_value(context, context.scope, Dimension.KEYWORD)
    previous = by_value(context, context.previous, Dimension.KEYWORD)

    def with_keyword(groups: dict[str, CallCounts]) -> int:
        return sum(counts.calls for value, counts in groups.items() if value != NOT_SET)

    all_now = CallCounts.total(list(current.values()))
    all_before = CallCounts.total(list(previous.values()))
    table = dimension_table(
        context,
        "keywords",
        N_("Keywords"),
        current,
        label_column("keyword", N_("Keyword")),
        "keyword",
        limit=TOP_ROWS,
    )
    return context.report(
        "keywords",
        headlines=[
            headline("calls", N_("Calls"), ValueKind.COUNT, all_now.calls, all_before.calls),
            headline(
                "calls_with_keyword",
                N_("Calls with a keyword"),
                ValueKind.COUNT,
                with_keyword(current),
                with_keyword(previous),
            ),
            headline(
                "keywords",
                N_("Keywords that brought calls"),
                ValueKind.COUNT,
                len([value for value in current if value != NOT_SET]),
                len([value for value in previous if value != NOT_SET]),
            ),
        ],
        tables=[table],
        charts=[Chart(ChartKind.BAR, "keywords", "keyword", ["calls", "target"], N_("Keywords"))],
    )


LEAD_KINDS = (("call", "calls"), ("form", "forms"), ("callback", "callbacks"))


def _lead_day_cells(counts: dict[str, int]) -> dict[str, Any]:
    leads = sum(counts.values())
    cells: dict[str, Any] = {column: counts.get(kind, 0) for kind, column in LEAD_KINDS}
    cells["leads"] = leads
    cells["calls_share"] = share_of(cells["calls"], leads)
    return cells


def lead_mix(context: ReportContext) -> Report:
    """Report 3: calls, forms and callback requests per day, and the calls' share of leads."""
    rows = lead_rows(context.db, context.scope, keep=("day", "kind"))
    by_day_kind = sum_by(rows, lambda key: (key.day, key.kind))
    table_rows = []
    for day in context.period.dates():
        counts = {kind: n for (when, kind), n in by_day_kind.items() if when == day}
        table_rows.append(Row({"day": day, **_lead_day_cells(counts)}, context.drill(day)))

    def kinds(lead_counts: dict[LeadKey, int]) -> dict[str, Any]:
        return _lead_day_cells(sum_by(lead_counts, lambda key: key.kind))

    now, before = kinds(rows), kinds(lead_rows(context.db, context.previous, keep=("kind",)))
    table = Table(
        "lead_mix",
        N_("Leads by day"),
        [
            Column("day", N_("Day"), ValueKind.DATE),
            Column("calls", N_("Calls"), ValueKind.COUNT),
            Column("forms", N_("Forms"), ValueKind.COUNT),
            Column("callbacks", N_("Callback requests"), ValueKind.COUNT),
            Column("leads", N_("All leads"), ValueKind.COUNT),
            Column("calls_share", N_("Calls' share of leads"), ValueKind.SHARE),
        ],
        table_rows,
        {"day": N_("Total"), **now},
    )
    return context.report(
        "lead_mix",
        headlines=[
            headline("leads", N_("All leads"), ValueKind.COUNT, now["leads"], before["leads"]),
            headline("calls", N_("Call leads"), ValueKind.COUNT, now["calls"], before["calls"]),
            headline(
                "calls_share",
                N_("Calls' share of leads"),
                ValueKind.SHARE,
                now["calls_share"],
                before["calls_share"],
            ),
        ],
        tables=[table],
        charts=[
            Chart(
                ChartKind.STACKED_BAR,
                "lead_mix",
                "day",
                ["calls", "forms", "callbacks"],
                N_("Leads by day"),
            )
        ],
    )


ORIGIN_LABELS = {
    CallOrigin.AD: N_("Straight from an ad (static number)"),
    CallOrigin.SITE: N_("After a site visit (dynamic number)"),
    CallOrigin.UNKNOWN: N_("Unknown"),
}


def origin(context: ReportContext) -> Report:
    """Report 4: calls straight from ads (static numbers) vs after a site visit (pool numbers)."""
    current = by_value(context, context.scope, Dimension.ORIGIN)
    previous = by_value(context, context.previous, Dimension.ORIGIN)
    everything = CallCounts.total(list(current.values()))
    rows = []
    for kind, label in ORIGIN_LABELS.items():
        counts = current.get(kind.value, CallCounts())
        cells = {"origin": label, **call_cells(counts)}
        cells["share"] = share_of(counts.calls, everything.calls)
        rows.append(Row(cells, context.drill(origin=kind.value)))
    origin_column = Column(
        "origin", N_("Where the caller came from"), ValueKind.TEXT, translate=True
    )
    columns = [origin_column, CALL_COLUMNS[0], SHARE_COLUMN, *CALL_COLUMNS[1:]]
    table = Table("origin", N_("Calls by origin"), columns, rows, call_totals(everything, "origin"))

    def calls(groups: dict[str, CallCounts], kind: CallOrigin) -> int:
        return groups.get(kind.value, CallCounts()).calls

    def site_share(groups: dict[str, CallCounts]) -> float | None:
        return share_of(calls(groups, CallOrigin.SITE), sum(c.calls for c in groups.values()))

    return context.report(
        "origin",
        headlines=[
            headline(
                "ad_calls",
                N_("Calls straight from ads"),
                ValueKind.COUNT,
                calls(current, CallOrigin.AD),
                calls(previous, CallOrigin.AD),
            ),
            headline(
                "site_calls",
                N_("Calls after a site visit"),
                ValueKind.COUNT,
                calls(current, CallOrigin.SITE),
                calls(previous, CallOrigin.SITE),
            ),
            headline(
                "site_share",
                N_("Share of calls after a site visit"),
                ValueKind.SHARE,
                site_share(current),
                site_share(previous),
            ),
        ],
        tables=[table],
        charts=[Chart(ChartKind.PIE, "origin", "origin", ["calls"], N_("Calls by origin"))],
    )


def geography(context: ReportContext) -> Report:
    """Report 6: calls by the caller's region (phone number) and the visitor's region (IP)."""
    callers = by_value(context, context.scope, Dimension.CALLER_REGION)
    visitors = by_value(context, context.scope, Dimension.VISITOR_REGION)
    before = by_value(context, context.previous, Dimension.CALLER_REGION)
    everything = CallCounts.total(list(callers.values()))
    previous_total = CallCounts.total(list(before.values()))

    def known(groups: dict[str, CallCounts]) -> int:
        return sum(counts.calls for value, counts in groups.items() if value != NOT_SET)

    return context.report(
        "geography",
        headlines=[
            headline("calls", N_("Calls"), ValueKind.COUNT, everything.calls, previous_total.calls),
            headline(
                "regions",
                N_("Caller regions"),
                ValueKind.COUNT,
                len([value for value in callers if value != NOT_SET]),
                len([value for value in before if value != NOT_SET]),
            ),
            headline(
                "known_caller_region",
                N_("Calls with a known caller region"),
                ValueKind.COUNT,
                known(callers),
                known(before),
            ),
        ],
        tables=[
            dimension_table(
                context,
                "caller_region",
                N_("Caller region"),
                callers,
                label_column("caller_region", N_("Caller region")),
                "caller_region",
            ),
            dimension_table(
                context,
                "visitor_region",
                N_("Visitor region"),
                visitors,
                label_column("visitor_region", N_("Visitor region")),
                "visitor_region",
            ),
        ],
        charts=[
            Chart(ChartKind.BAR, "caller_region", "caller_region", ["calls"], N_("Caller region")),
            Chart(
                ChartKind.BAR, "visitor_region", "visitor_region", ["calls"], N_("Visitor region")
            ),
        ],
    )
