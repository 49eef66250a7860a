"""The calls log as a table for CSV and XLSX: its columns, and one row per listed call.

The dashboard and the API export the same columns; labels are English message ids (`N_`)
that the dashboard translates, with the call statuses. Exports hold at most MAX_EXPORT_ROWS
calls, newest first. The recording column holds a signed link a browser opens without
signing in (while it lasts), the click and analytics ids one column each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.services.call_labels import ATTRIBUTION_LABELS, STATUS_LABELS
from ringtrail.services.calls import (
    ANALYTICS_IDS,
    CallFilters,
    CallSummary,
    iter_calls,
    project_zone,
)
from ringtrail.services.exports import CsvStyle, to_csv, to_xlsx
from ringtrail.services.reports.model import N_
from ringtrail.storage.models import Project

MAX_EXPORT_ROWS = 100_000
"""The most calls one export holds; narrow the filters (the period) for more."""
LINK_BATCH = 500
"""Calls whose recording links are looked up together."""

RecordingLinks = Callable[[Iterable[int]], dict[int, str]]
"""Call ids -> a browser-ready link to each one's stored recording (others left out)."""


ANALYTICS_LABELS: dict[str, str] = {
    "gclid": "gclid",
    "gbraid": "gbraid",
    "wbraid": "wbraid",
    "fbclid": "fbclid",
    "yclid": "yclid",
    "msclkid": "msclkid",
    "ttclid": "ttclid",
    "ga_client_id": N_("GA client ID"),
    "ga_session_id": N_("GA session ID"),
    "fbp": "_fbp",
    "fbc": "_fbc",
    "ym_uid": "_ym_uid",
}
"""Column labels of `ANALYTICS_IDS`: the parameter or cookie names people search for."""

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
    ("recording", N_("Recording")),
    *((name, ANALYTICS_LABELS[name]) for name in ANALYTICS_IDS),
)
"""Each column: the CallSummary field (or analytics id) it shows, and its English label."""


def export_row(
    call: CallSummary, translate: Callable[[str], str] = str, recording: str | None = None
) -> list[Any]:
    """One call as the export's cells (instants stay aware; the writer puts them in the zone).

    `recording` is the link to its audio; without one the cell says whether there is audio."""
    cells: list[Any] = []
    for key, _ in COLUMNS:
        if key == "recording":
            cells.append(recording if recording is not None else call.has_recording)
        elif key in ANALYTICS_LABELS:
            cells.append(call.analytics_ids.get(key))
        elif key == "status":
            cells.append(translate(STATUS_LABELS.get(call.status, call.status)))
        elif key == "attribution_kind":
            kind = call.attribution_kind
            cells.append(translate(ATTRIBUTION_LABELS.get(kind, kind)))
        elif key == "tags":
            cells.append(", ".join(call.tags))
        else:
            cells.append(getattr(call, key))
    return cells


def export_rows(
    calls: Iterable[CallSummary],
    translate: Callable[[str], str] = str,
    links: RecordingLinks | None = None,
) -> Iterator[list[Any]]:
    """The export rows of `calls`, in order; recording links fetched a batch at a time."""
    batch: list[CallSummary] = []

    def flush() -> Iterator[list[Any]]:
        found = links([c.id for c in batch if c.has_recording]) if links else {}
        for call in batch:
            yield export_row(call, translate, found.get(call.id) if links else None)
        batch.clear()

    for call in calls:
        batch.append(call)
        if len(batch) >= LINK_BATCH:
            yield from flush()
    yield from flush()


def _name_part(text: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text or "").strip("-")[:40]


def export_filename(project: Project, filters: CallFilters, kind: str) -> str:
    """`calls-<project>-<from>-<to>.<kind>`: the project's slug and the period's first and
    last moments as given (dates); an open end is `start` or `now`."""
    start = _name_part((filters.period_from or "")[:10]) or "start"
    end = _name_part((filters.period_to or "")[:10]) or "now"
    name = _name_part(project.slug) or f"project-{project.id}"
    return f"calls-{name}-{start}-{end}.{kind}"


def export_calls(
    db: Session,
    project: Project,
    filters: CallFilters,
    kind: str,
    translate: Callable[[str], str] = str,
    *,
    mask_callers: bool = False,
    csv_style: CsvStyle | None = None,
    recording_links: RecordingLinks | None = None,
) -> bytes:
    """The project's calls matching `filters` as a "csv" (in `csv_style`) or "xlsx" file,
    times in its zone, statuses through `translate`.

    `mask_callers` hides the middle of callers' numbers (roles that may not see them)."""
    labels = [translate(label) for _, label in COLUMNS]
    calls = iter_calls(db, project, filters, limit=MAX_EXPORT_ROWS, mask_callers=mask_callers)
    rows = export_rows(calls, translate, recording_links)
    zone = project_zone(project)
    if kind == "xlsx":
        return to_xlsx(labels, rows, zone, sheet_title=translate(N_("Calls")))
    return to_csv(labels, rows, zone, csv_style)
