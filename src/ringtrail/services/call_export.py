"""The calls log as a table for CSV and XLSX: its columns, and one row per listed call.

The dashboard and the API export the same columns; labels are English message ids (`N_`)
that the dashboard translates. Exports hold at most MAX_EXPORT_ROWS calls, newest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.services.calls import CallFilters, CallSummary, iter_calls, project_zone
from ringtrail.services.exports import to_csv, to_xlsx
from ringtrail.services.reports.model import N_
from ringtrail.storage.models import Project

MAX_EXPORT_ROWS = 100_000
"""The most calls one export holds; narrow the filters (the period) for more."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", N_("Call ID")),
    ("started_at", N_("Started")),
    ("status", N_("Status")),
    ("caller", N_("Caller")),
    ("dialled", N_("Tracking number")),
    ("source", N_("Source")),
    ("medium", N_("Medium")),
    ("campaign", N_("Campaign")),
    ("keyword", N_("Keyword")),
    ("landing_page", N_("Landing page")),
    ("duration_seconds", N_("Duration, s")),
    ("talk_seconds", N_("Talk time, s")),
    ("is_first_time", N_("First-time")),
    ("is_unique", N_("Unique")),
    ("is_target", N_("Target")),
    ("tags", N_("Tags")),
    ("caller_region", N_("Caller region")),
    ("attribution_kind", N_("Attribution")),
    ("has_recording", N_("Recording")),
)
"""Each column: the CallSummary field it shows, and its English label."""


def export_row(call: CallSummary) -> list[Any]:
    """One call as the export's cells (instants stay aware; the writer puts them in the zone)."""
    cells: list[Any] = []
    for key, _ in COLUMNS:
        value = getattr(call, key)
        cells.append(", ".join(value) if key == "tags" else value)
    return cells


def export_rows(calls: Iterable[CallSummary]) -> Iterator[list[Any]]:
    """The export rows of `calls`, in order."""
    return (export_row(call) for call in calls)


def export_calls(
    db: Session,
    project: Project,
    filters: CallFilters,
    kind: str,
    translate: Callable[[str], str] = str,
    *,
    mask_callers: bool = False,
) -> bytes:
    """The project's calls matching `filters` as a "csv" or "xlsx" file (times in its zone).

    `mask_callers` hides the middle of callers' numbers (roles that may not see them)."""
    labels = [translate(label) for _, label in COLUMNS]
    calls = iter_calls(db, project, filters, limit=MAX_EXPORT_ROWS, mask_callers=mask_callers)
    rows = export_rows(calls)
    zone = project_zone(project)
    if kind == "xlsx":
        return to_xlsx(labels, rows, zone, sheet_title=translate(N_("Calls")))
    return to_csv(labels, rows, zone)
