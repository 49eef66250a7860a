"""Reports 5 and 7: call duration (with the longest calls) and unique/target/repeat calls.

Every figure is read through the engine (`call_rows`, `lead_rows`) for the period and again
for the previous period (the headlines' comparison).
"""

from __future__ import annotations

from typing import Any

from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.facts import (
    DURATION_BUCKETS,
    NOT_ANSWERED_BUCKET,
)
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.services.reports.call_lists import longest_calls
from ringtrail.services.reports.calls_reports import by_value, totals_of
from ringtrail.services.reports.context import (
    CALL_COLUMNS,
    SHARE_COLUMN,
    ReportContext,
    call_cells,
    call_totals,
    headline,
    share_of,
)
from ringtrail.services.reports.engine import (
    call_rows,
    regroup,
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

DURATION_LABELS = {
    "0-30s": N_("0-30s"),
    "30s-1m": N_("30s-1m"),
    "1-3m": N_("1-3m"),
    "3-5m": N_("3-5m"),
    "5-10m": N_("5-10m"),
    "10m+": N_("10m+"),
    NOT_ANSWERED_BUCKET: N_("Not answered"),
}
"""Each talk-time bucket's label (the drill-down keeps the bucket's own name)."""


def recording_path(project_id: int, call_id: int) -> str:
    """The API path that answers a signed link to a call's audio."""
    return f"/api/v1/projects/{project_id}/calls/{call_id}/recording"


def duration(context: ReportContext) -> Report:
    """Report 5: talk-time buckets, and the longest calls with their recordings."""
    current = by_value(context, context.scope, Dimension.DURATION)
    everything = CallCounts.total(list(current.values()))
    rows = []
    for bucket in [label for label, _low, _high in DURATION_BUCKETS] + [NOT_ANSWERED_BUCKET]:
        counts = current.get(bucket, CallCounts())
        cells = {"duration": DURATION_LABELS[bucket], **call_cells(counts)}
        cells["share"] = share_of(counts.calls, everything.calls)
        rows.append(Row(cells, context.drill(duration=bucket)))
    label = Column("duration", N_("Talk time"), ValueKind.TEXT, translate=True)
    buckets = Table(
        "duration",
        N_("Calls by talk time"),
        [label, CALL_COLUMNS[0], SHARE_COLUMN, *CALL_COLUMNS[1:]],
        rows,
        call_totals(everything, "duration"),
    )
    longest_rows = [
        Row(
            {
                "started_at": call.started_at,
                "talk_seconds": call.talk_seconds,
                "source": call.source,
                "campaign": call.campaign,
                "caller_region": call.caller_region,
                "call_id": call.call_id,
                "recording": (
                    recording_path(context.project.id, call.call_id) if call.has_recording else None
                ),
            }
        )
        for call in longest_calls(context.db, context.scope)
    ]
    longest = Table(
        "longest",
        N_("Longest calls"),
        [
            Column("started_at", N_("Started"), ValueKind.DATETIME),
            Column("talk_seconds", N_("Talk time"), ValueKind.SECONDS),
            Column("source", N_("Source"), ValueKind.TEXT),
            Column("campaign", N_("Campaign"), ValueKind.TEXT),
            Column("caller_region", N_("Caller region"), ValueKind.TEXT),
            Column("call_id", N_("Call"), ValueKind.COUNT),
            Column("recording", N_("Recording"), ValueKind.LINK),
        ],
        longest_rows,
    )
    before = totals_of(context, context.previous)
    return context.report(
        "duration",
        headlines=[
            headline(
                "answered",
                N_("Answered calls"),
                ValueKind.COUNT,
                everything.answered,
                before.answered,
            ),
            headline(
                "average_talk_seconds",
                N_("Average talk time"),
                ValueKind.SECONDS,
                everything.average_talk_seconds,
                before.average_talk_seconds,
            ),
        ],
        tables=[buckets, longest],
        charts=[Chart(ChartKind.BAR, "duration", "duration", ["calls"], N_("Calls by talk time"))],
        notes=[N_("The longest calls link to their recording when one is stored.")],
    )


CALLER_TERMS_NOTE = N_(
    "First-time: no earlier call from the same caller number to the project, ever. Unique: no "
    "call from the same caller number to the project within the unique-call window before this "
    "one. Repeat: not unique."
)
"""The report's wording of domain/calls.py CALLER_TERMS, as the dashboard shows it."""


UNIQUENESS_KINDS: tuple[tuple[str, str, dict[str, bool]], ...] = (
    ("unique", N_("Unique calls"), {"unique": True}),
    ("unique_target", N_("Unique target calls"), {"unique": True, "target": True}),
    ("first_time", N_("First-time calls"), {"first_time": True}),
    ("first_target", N_("First-time target calls"), {"first_time": True, "target": True}),
    ("repeat", N_("Repeat calls"), {"unique": False}),
)
"""Report 7's rows: the CallCounts field, its label and the calls-log flags listing them."""


def uniqueness(context: ReportContext) -> Report:
    """Report 7: unique, unique-target, first-target and repeat calls, as shares of all calls."""
    rows_now = call_rows(context.db, context.scope, Dimension.TOTAL, keep=("day",))
    now = total(rows_now.values())
    before = totals_of(context, context.previous)
    kinds = [
        Row(
            {
                "kind": label,
                "calls": getattr(now, field),
                "share": share_of(getattr(now, field), now.calls),
            },
            context.drill(**flags),
        )
        for field, label, flags in UNIQUENESS_KINDS
    ]
    kinds_table = Table(
        "kinds",
        N_("Calls by kind"),
        [
            Column("kind", N_("Kind"), ValueKind.TEXT, translate=True),
            Column("calls", N_("Calls"), ValueKind.COUNT),
            Column("share", N_("Share of calls"), ValueKind.SHARE),
        ],
        kinds,
        {"kind": N_("All calls"), "calls": now.calls, "share": 1.0 if now.calls else None},
    )
    by_day = regroup(rows_now, lambda key: key.day)
    day_rows = []
    for day in context.period.dates():
        counts = by_day.get(day, CallCounts())
        cells: dict[str, Any] = {"day": day, "calls": counts.calls}
        cells.update({field: getattr(counts, field) for field, _label, _flags in UNIQUENESS_KINDS})
        day_rows.append(Row(cells, context.drill(day)))
    day_totals: dict[str, Any] = {"day": N_("Total"), "calls": now.calls}
    day_totals.update({field: getattr(now, field) for field, _label, _flags in UNIQUENESS_KINDS})
    days_table = Table(
        "by_day",
        N_("By day"),
        [Column("day", N_("Day"), ValueKind.DATE), Column("calls", N_("Calls"), ValueKind.COUNT)]
        + [Column(field, label, ValueKind.COUNT) for field, label, _flags in UNIQUENESS_KINDS],
        day_rows,
        day_totals,
    )

    def share(counts: CallCounts, field: str) -> float | None:
        return share_of(getattr(counts, field), counts.calls)

    headlines = [
        headline(f"{field}_share", label, ValueKind.SHARE, share(now, field), share(before, field))
        for field, label, _flags in UNIQUENESS_KINDS
    ]
    return context.report(
        "uniqueness",
        headlines=[
            headline("calls", N_("Calls"), ValueKind.COUNT, now.calls, before.calls),
            *headlines,
        ],
        tables=[kinds_table, days_table],
        charts=[
            Chart(ChartKind.BAR, "kinds", "kind", ["share"], N_("Calls by kind")),
            Chart(ChartKind.LINE, "by_day", "day", ["calls", "unique", "repeat"], N_("By day")),
        ],
        notes=[CALLER_TERMS_NOTE],
    )
