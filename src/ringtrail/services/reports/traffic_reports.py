"""Calls by source/medium/campaign/landing page, missed calls and lead quality."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ringtrail.domain.callbacks import CallbackTimes, callback_times
from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.rollup import Dimension, RollupKey, VisitKey
from ringtrail.services.errors import InvalidInput
from ringtrail.services.reports.call_lists import callback_delays, callbacks_by_day
from ringtrail.services.reports.context import (
    CALL_COLUMNS,
    JUDGE_COLUMNS,
    TOP_ROWS,
    ReportContext,
    call_cells,
    headline,
    judge_cells,
    label_column,
    ranked,
    share_of,
)
from ringtrail.services.reports.engine import (
    CallField,
    ReportScope,
    VisitField,
    call_rows,
    lead_rows,
    regroup,
    sum_by,
    total,
    visit_rows,
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

GROUPINGS: dict[str, tuple[str, Dimension]] = {
    "source": (N_("Source"), Dimension.TOTAL),
    "medium": (N_("Medium"), Dimension.MEDIUM),
    "campaign": (N_("Campaign"), Dimension.TOTAL),
    "landing_page": (N_("Landing page"), Dimension.LANDING_PAGE),
}
"""The `by` choices of the sources report: label, and the rollup dimension that has them."""
DEFAULT_GROUPING = "source"


def _call_group(by: str) -> Callable[[RollupKey], str]:
    if by == "source":
        return lambda key: key.source
    if by == "campaign":
        return lambda key: key.campaign
    return lambda key: key.value


def _call_keep(by: str) -> tuple[CallField, ...]:
    """The `call_rows` key field `_call_group(by)` reads."""
    if by == "source":
        return ("source",)
    if by == "campaign":
        return ("campaign",)
    return ("value",)


def _visit_keep(by: str) -> tuple[VisitField, ...]:
    """The `visit_rows` key field `_visit_group(by)` reads."""
    if by == "medium":
        return ("medium",)
    if by == "campaign":
        return ("campaign",)
    if by == "landing_page":
        return ("landing_page",)
    return ("source",)


def _visit_group(by: str) -> Callable[[VisitKey], str]:
    attribute = "landing_page" if by == "landing_page" else by
    return lambda key: str(getattr(key, attribute))


def grouping(by: str | None) -> str:
    """The grouping asked for, or InvalidInput naming `by`."""
    chosen = by or DEFAULT_GROUPING
    if chosen not in GROUPINGS:
        raise InvalidInput("by", f"unknown grouping {chosen!r}; use one of: {', '.join(GROUPINGS)}")
    return chosen


def _traffic(
    context: ReportContext, scope: ReportScope, by: str
) -> tuple[dict[str, CallCounts], dict[str, int]]:
    calls = regroup(
        call_rows(context.db, scope, GROUPINGS[by][1], keep=_call_keep(by)), _call_group(by)
    )
    visits = sum_by(visit_rows(context.db, scope, keep=_visit_keep(by)), _visit_group(by))
    return calls, visits


def _leads(context: ReportContext, by: str) -> dict[str, int] | None:
    """Leads of every kind (calls, forms, callbacks) by source or campaign; None for the
    groupings leads are not counted by (medium, landing page)."""
    if by not in ("source", "campaign"):
        return None
    rows = lead_rows(
        context.db, context.scope, keep=("source",) if by == "source" else ("campaign",)
    )
    return sum_by(rows, lambda key: key.source if by == "source" else key.campaign)


def sources(context: ReportContext) -> Report:
    """Calls and visits by source, medium, campaign or landing page, and their conversion;
    by source or campaign, leads of every kind too."""
    by = grouping(context.by)
    calls, visits = _traffic(context, context.scope, by)
    calls_before, visits_before = _traffic(context, context.previous, by)
    leads = _leads(context, by)
    values = set(calls) | set(visits) | set(leads or {})
    order = sorted(
        values,
        key=lambda value: (-calls.get(value, CallCounts()).calls, -visits.get(value, 0), value),
    )
    rows = []
    for value in order[:TOP_ROWS]:
        counts = calls.get(value, CallCounts())
        cells = {"value": value, "visits": visits.get(value, 0), **call_cells(counts)}
        cells["conversion"] = share_of(counts.calls, visits.get(value, 0))
        if leads is not None:
            cells["leads"] = leads.get(value, 0)
        rows.append(Row(cells, context.drill(**{by: value})))
    everything = CallCounts.total(list(calls.values()))
    all_visits = sum(visits.values())
    totals = {
        "value": N_("Total"),
        "visits": all_visits,
        **call_cells(everything),
        "conversion": share_of(everything.calls, all_visits),
    }
    lead_columns: list[Column] = []
    if leads is not None:
        totals["leads"] = sum(leads.values())
        lead_columns = [Column("leads", N_("All leads"), ValueKind.COUNT)]
    before = CallCounts.total(list(calls_before.values()))
    visits_total_before = sum(visits_before.values())
    table = Table(
        "sources",
        GROUPINGS[by][0],
        [
            label_column("value", GROUPINGS[by][0]),
            Column("visits", N_("Visits"), ValueKind.COUNT),
            CALL_COLUMNS[0],
            Column("conversion", N_("Conversion to calls"), ValueKind.SHARE),
            *lead_columns,
            *CALL_COLUMNS[1:],
        ],
        rows,
        totals,
    )
    return context.report(
        "sources",
        headlines=[
            headline("visits", N_("Visits"), ValueKind.COUNT, all_visits, visits_total_before),
            headline("calls", N_("Calls"), ValueKind.COUNT, everything.calls, before.calls),
            headline(
                "conversion",
                N_("Conversion to calls"),
                ValueKind.SHARE,
                share_of(everything.calls, all_visits),
                share_of(before.calls, visits_total_before),
            ),
        ],
        tables=[table],
        charts=[Chart(ChartKind.BAR, "sources", "value", ["calls"], GROUPINGS[by][0])],
        notes=[N_("Visits follow the source and campaign filters only.")],
    )


def missed(context: ReportContext) -> Report:
    """Per day: calls, missed calls and their share, the average wait, callbacks still owed;
    how long callbacks took (the median) and the share of them settled within an hour."""
    by_day = regroup(
        call_rows(context.db, context.scope, Dimension.TOTAL, keep=("day",)), lambda key: key.day
    )
    callbacks = callbacks_by_day(context.db, context.scope)
    rows = []
    for day in context.period.dates():
        counts = by_day.get(day, CallCounts())
        rows.append(
            Row({"day": day, **_missed_cells(counts, callbacks.get(day, 0))}, context.drill(day))
        )
    now = CallCounts.total(list(by_day.values()))
    before = total(call_rows(context.db, context.previous, Dimension.TOTAL, keep=()).values())
    callbacks_now = sum(callbacks.values())
    callbacks_before = sum(callbacks_by_day(context.db, context.previous).values())
    times_now = callback_times(callback_delays(context.db, context.scope))
    times_before = callback_times(callback_delays(context.db, context.previous))
    table = Table(
        "missed",
        N_("Missed calls by day"),
        [
            Column("day", N_("Day"), ValueKind.DATE),
            Column("calls", N_("Calls"), ValueKind.COUNT),
            Column("answered", N_("Answered calls"), ValueKind.COUNT),
            Column("missed", N_("Missed calls"), ValueKind.COUNT),
            Column("missed_share", N_("Missed share"), ValueKind.SHARE),
            Column("average_wait_seconds", N_("Average wait"), ValueKind.SECONDS),
            Column("needs_callback", N_("Need a callback"), ValueKind.COUNT),
        ],
        rows,
        {"day": N_("Total"), **_missed_cells(now, callbacks_now)},
    )
    return context.report(
        "missed",
        headlines=[
            headline("calls", N_("Calls"), ValueKind.COUNT, now.calls, before.calls),
            headline("missed", N_("Missed calls"), ValueKind.COUNT, now.missed, before.missed),
            headline(
                "missed_share",
                N_("Missed share"),
                ValueKind.SHARE,
                now.missed_share,
                before.missed_share,
            ),
            headline(
                "average_wait_seconds",
                N_("Average wait"),
                ValueKind.SECONDS,
                now.average_wait_seconds,
                before.average_wait_seconds,
            ),
            headline(
                "needs_callback",
                N_("Calls that need a callback"),
                ValueKind.COUNT,
                callbacks_now,
                callbacks_before,
                drill=context.drill(needs_callback=True),
            ),
            headline(
                "callback_wait_seconds",
                N_("Median time to callback"),
                ValueKind.SECONDS,
                _median_seconds(times_now),
                _median_seconds(times_before),
            ),
            headline(
                "called_back_within_hour",
                N_("Called back within an hour"),
                ValueKind.SHARE,
                times_now.share_within,
                times_before.share_within,
            ),
        ],
        tables=[table],
        charts=[Chart(ChartKind.LINE, "missed", "day", ["calls", "missed"], N_("Missed calls"))],
    )


def _median_seconds(times: CallbackTimes) -> int | None:
    delay = times.median_delay
    return None if delay is None else round(delay.total_seconds())


def _missed_cells(counts: CallCounts, callbacks: int) -> dict[str, Any]:
    return {
        "calls": counts.calls,
        "answered": counts.answered,
        "missed": counts.missed,
        "missed_share": counts.missed_share,
        "average_wait_seconds": counts.average_wait_seconds,
        "needs_callback": callbacks,
    }


MEETS_GOAL = {True: N_("Yes"), False: N_("No"), None: N_("Not judged yet")}


def quality(context: ReportContext) -> Report:
    """Lead quality per source: target calls among judged calls against the project's goal."""
    percent = context.project.target_call_goal_percent
    goal = percent / 100
    by_source = regroup(
        call_rows(context.db, context.scope, Dimension.TOTAL, keep=("source",)),
        lambda key: key.source,
    )
    rows = []
    for source, counts in ranked(by_source, TOP_ROWS):
        rows.append(
            Row({"source": source, **_quality_cells(counts, percent)}, context.drill(source=source))
        )
    now = CallCounts.total(list(by_source.values()))
    before = total(call_rows(context.db, context.previous, Dimension.TOTAL, keep=()).values())
    table = Table(
        "quality",
        N_("Lead quality by source"),
        [
            label_column("source", N_("Source")),
            Column("calls", N_("Calls"), ValueKind.COUNT),
            Column("judged", N_("Judged calls"), ValueKind.COUNT),
            Column("target", N_("Target calls"), ValueKind.COUNT),
            *JUDGE_COLUMNS,
            Column("non_target", N_("Non-target calls"), ValueKind.COUNT),
            Column("target_share", N_("Target share"), ValueKind.SHARE),
            Column("goal", N_("Goal"), ValueKind.SHARE),
            Column("meets_goal", N_("Meets the goal"), ValueKind.TEXT, translate=True),
        ],
        rows,
        {"source": N_("Total"), **_quality_cells(now, percent)},
    )
    return context.report(
        "quality",
        headlines=[
            headline(
                "target_share",
                N_("Target share"),
                ValueKind.SHARE,
                now.target_share,
                before.target_share,
            ),
            headline("goal", N_("Goal"), ValueKind.SHARE, goal),
            headline("judged", N_("Judged calls"), ValueKind.COUNT, now.judged, before.judged),
            *(
                headline(
                    column.key,
                    column.label,
                    ValueKind.COUNT,
                    getattr(now, column.key),
                    getattr(before, column.key),
                )
                for column in JUDGE_COLUMNS
            ),
        ],
        tables=[table],
        charts=[Chart(ChartKind.BAR, "quality", "source", ["target_share"], N_("Target share"))],
        notes=[
            N_("The target share counts judged calls only; unjudged calls are left out."),
            N_(
                "Target calls are counted by who marked them: people, rules and the model; a"
                " person's mark always wins, and the three add up to the target calls."
            ),
        ],
    )


def _quality_cells(counts: CallCounts, percent: int) -> dict[str, Any]:
    share = counts.target_share
    # Compared in whole numbers, so 4 of 5 meets an 80 % goal whatever floats would round to.
    meets = None if share is None else counts.target * 100 >= percent * counts.judged
    return {
        "calls": counts.calls,
        "judged": counts.judged,
        "target": counts.target,
        **judge_cells(counts),
        "non_target": counts.non_target,
        "target_share": share,
        "goal": percent / 100,
        "meets_goal": MEETS_GOAL[meets],
    }
