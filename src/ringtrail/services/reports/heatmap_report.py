"""The weekday x hour heatmap: calls by local weekday and hour, from Dimension.HOUR_OF_WEEK."""

from __future__ import annotations

from typing import Any

from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.rollup import Dimension
from ringtrail.services.reports.context import (
    CALL_COLUMNS,
    ReportContext,
    call_cells,
    headline,
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

WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
HOURS = tuple(f"{hour:02d}" for hour in range(24))


def heatmap(context: ReportContext) -> Report:
    """Calls by local weekday and hour: a 7 x 24 grid, and the busy cells with drill-downs."""
    cells = regroup(
        call_rows(context.db, context.scope, Dimension.HOUR_OF_WEEK, keep=("value",)),
        lambda key: key.value,
    )
    grid_rows = []
    cell_rows = []
    for weekday, name in enumerate(WEEKDAYS):
        row: dict[str, Any] = {"weekday": name}
        for hour in HOURS:
            counts = cells.get(f"{weekday}-{hour}", CallCounts())
            row[f"h{hour}"] = counts.calls
            if counts.calls:
                cell_rows.append(
                    Row(
                        {"weekday": name, "hour": hour, **call_cells(counts)},
                        context.drill(hour_of_week=f"{weekday}-{hour}"),
                    )
                )
        row["calls"] = sum(row[f"h{hour}"] for hour in HOURS)
        grid_rows.append(Row(row))
    weekday_column = Column("weekday", N_("Weekday"), ValueKind.TEXT, translate=True)
    now = CallCounts.total(list(cells.values()))
    grid_totals: dict[str, Any] = {"weekday": N_("Total"), "calls": now.calls}
    for hour in HOURS:
        grid_totals[f"h{hour}"] = sum(row.cells[f"h{hour}"] for row in grid_rows)
    grid = Table(
        "grid",
        N_("Calls by weekday and hour"),
        [weekday_column]
        + [Column(f"h{hour}", hour, ValueKind.COUNT) for hour in HOURS]
        + [Column("calls", N_("Calls"), ValueKind.COUNT)],
        grid_rows,
        grid_totals,
    )
    busy = Table(
        "cells",
        N_("Hours with calls"),
        [weekday_column, Column("hour", N_("Hour"), ValueKind.TEXT), *CALL_COLUMNS],
        cell_rows,
        {"weekday": N_("Total"), **call_cells(now)},
    )
    before = total(call_rows(context.db, context.previous, Dimension.TOTAL, keep=()).values())
    return context.report(
        "heatmap",
        headlines=[headline("calls", N_("Calls"), ValueKind.COUNT, now.calls, before.calls)],
        tables=[grid, busy],
        charts=[
            Chart(
                ChartKind.HEATMAP,
                "grid",
                "weekday",
                [f"h{hour}" for hour in HOURS],
                N_("Calls by weekday and hour"),
            )
        ],
        notes=[N_("Hours are local to the project's time zone.")],
    )
