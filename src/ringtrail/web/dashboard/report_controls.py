"""The report pages' controls: period, filters and options read from a GET query, and back.

Every report page has one GET form; its query is the whole state of the page, so a link (a
bookmark, the export links) shows the same rows. Reading it never raises: what cannot be read
is kept as an error message for the form, and the page answers 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from ringtrail.domain.money import AttributionModel
from ringtrail.domain.reports.periods import (
    DEFAULT_COMPARISON,
    DEFAULT_PRESET,
    Comparison,
    InvalidPeriod,
    Period,
    Preset,
    parse_period,
)
from ringtrail.services.call_labels import STATUS_LABELS
from ringtrail.services.reports.catalog import GROUPINGS
from ringtrail.services.reports.engine import ReportFilters
from ringtrail.services.reports.model import N_

CUSTOM = "custom"
"""The period select's choice meaning "use the dates"."""
FIRST_TIME_CHOICES = {"": None, "yes": True, "no": False}
MAX_FILTER_VALUES = 20

PRESET_LABELS: dict[Preset, str] = {
    Preset.TODAY: N_("Today"),
    Preset.YESTERDAY: N_("Yesterday"),
    Preset.LAST_7_DAYS: N_("Last 7 days"),
    Preset.LAST_30_DAYS: N_("Last 30 days"),
    Preset.LAST_90_DAYS: N_("Last 90 days"),
    Preset.THIS_MONTH: N_("This month"),
    Preset.LAST_MONTH: N_("Last month"),
    Preset.THIS_YEAR: N_("This year"),
}
COMPARISON_LABELS: dict[Comparison, str] = {
    Comparison.PREVIOUS: N_("The previous period"),
    Comparison.PREVIOUS_YEAR: N_("The same period last year"),
}
GROUPING_LABELS: dict[str, str] = {
    "source": N_("Source"),
    "medium": N_("Medium"),
    "campaign": N_("Campaign"),
    "landing_page": N_("Landing page"),
}
PERIOD_ERRORS = (
    ("dates must", N_("Dates must be written as YYYY-MM-DD.")),
    ("the period ends before", N_("The period ends before it starts.")),
    ("a period may be at most", N_("A period may be at most three years long.")),
    ("unknown period", N_("Unknown period: choose one from the list or give dates.")),
)
MODEL_LABELS: dict[str, str] = {
    AttributionModel.LAST_NON_DIRECT: N_("Last non-direct touch"),
    AttributionModel.FIRST: N_("First touch"),
    AttributionModel.LAST: N_("Last touch"),
    AttributionModel.LINEAR: N_("Linear"),
}


@dataclass(frozen=True)
class Controls:
    """What the form asked for, as typed (to fill the form again) and as read."""

    preset: str = ""
    start: str = ""
    end: str = ""
    sources: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    first_time: str = ""
    by: str = ""
    model: str = ""
    compare: str = ""
    period: Period | None = None
    errors: list[str] = field(default_factory=list)
    """English messages (translated when shown) of what could not be read."""

    @property
    def comparison(self) -> Comparison:
        """What the period is compared with (the previous period unless asked otherwise)."""
        return Comparison(self.compare) if self.compare else DEFAULT_COMPARISON

    @property
    def active_preset(self) -> str:
        """The preset the page shows: the one chosen, the default one when neither a preset
        nor dates were given, else "" (the dates)."""
        if self.preset:
            return self.preset
        if self.period is not None and not self.start and not self.end:
            return DEFAULT_PRESET.value
        return ""

    @property
    def filters(self) -> ReportFilters:
        """The report filters the form asked for."""
        return ReportFilters(
            sources=self.sources,
            campaigns=self.campaigns,
            statuses=self.statuses,
            tags=self.tags,
            first_time=FIRST_TIME_CHOICES.get(self.first_time),
        )

    def query(self, **changes: str) -> str:
        """The form's query string (for the export links), with `changes` applied."""
        params: list[tuple[str, str]] = []
        if self.preset:
            params.append(("period", self.preset))
        else:
            params.extend((key, value) for key, value in (("from", self.start), ("to", self.end)))
        for key, values in (
            ("source", self.sources),
            ("campaign", self.campaigns),
            ("status", self.statuses),
            ("tag", self.tags),
        ):
            params.extend((key, value) for value in values)
        for key, value in (
            ("first_time", self.first_time),
            ("by", self.by),
            ("model", self.model),
            ("compare", self.compare),
        ):
            if value:
                params.append((key, value))
        params = [(k, v) for k, v in params if v and k not in changes]
        params.extend((k, v) for k, v in changes.items() if v)
        return urlencode(params)


def _values(query: QueryParams, key: str) -> tuple[str, ...]:
    # A text box may hold several values separated by commas; the list keeps the order given.
    seen: dict[str, None] = {}
    for raw in query.getlist(key):
        for part in raw.split(","):
            value = part.strip()
            if value:
                seen[value] = None
    return tuple(seen)[:MAX_FILTER_VALUES]


def period_error(reason: str) -> str:
    """The form's message (a msgid) for the reason `parse_period` refused a period."""
    for start, message in PERIOD_ERRORS:
        if reason.startswith(start):
            return message
    return N_("This period cannot be shown.")


def read_controls(query: QueryParams, today: date) -> Controls:
    """The controls of a report page's query; `today` is the project's local date."""
    errors: list[str] = []
    preset = query.get("period", "").strip()
    start = query.get("from", "").strip()
    end = query.get("to", "").strip()
    period: Period | None = None
    if preset == CUSTOM:
        preset = ""
    try:
        # A chosen preset wins over the dates the form also sends (it shows the preset's dates).
        if preset:
            period = parse_period(today, preset)
        else:
            period = parse_period(today, None, start or None, end or None)
    except InvalidPeriod as exc:
        errors.append(period_error(str(exc)))
    statuses = _values(query, "status")
    unknown = [status for status in statuses if status not in STATUS_LABELS]
    if unknown:
        errors.append(N_("Unknown call status."))
    first_time = query.get("first_time", "").strip()
    if first_time not in FIRST_TIME_CHOICES:
        errors.append(N_("First-time must be yes, no or empty."))
        first_time = ""
    by = query.get("by", "").strip()
    if by and by not in GROUPINGS:
        errors.append(N_("Calls can be grouped by source, medium, campaign or landing page."))
        by = ""
    model = query.get("model", "").strip()
    if model and model not in MODEL_LABELS:
        errors.append(N_("Unknown attribution model."))
        model = ""
    compare = query.get("compare", "").strip()
    if compare == DEFAULT_COMPARISON.value:
        compare = ""
    if compare and compare not in COMPARISON_LABELS:
        errors.append(N_("Compare with the previous period or the same period last year."))
        compare = ""
    return Controls(
        preset=preset if period is not None else "",
        start=start,
        end=end,
        sources=_values(query, "source"),
        campaigns=_values(query, "campaign"),
        statuses=tuple(s for s in statuses if s in STATUS_LABELS),
        tags=_values(query, "tag"),
        first_time=first_time,
        by=by,
        model=model,
        compare=compare,
        period=period,
        errors=errors,
    )
