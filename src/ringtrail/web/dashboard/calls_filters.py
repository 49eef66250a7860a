"""The calls log's query: the filter form and the report drill-down keys, read into CallFilters.

Two kinds of URL reach the calls log. A drill-down link from a report carries only the
filters it sets, and an empty value there means "(not set)" (`keyword=` lists the calls
without a keyword). The filter form sends every field, empty ones too, so it adds
`form=1`: then an empty field means "any". Drill values the form cannot show in a field
(several sources, "(not set)", a keyword, an hour of the week...) travel with the form as
hidden inputs named in `keep`, and show as removable chips. Links the page makes (next page,
exports, chip removal) use the canonical query: the active filters only, without `form`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from ringtrail.domain.reports.facts import NOT_ANSWERED_BUCKET, CallOrigin
from ringtrail.services.call_labels import STATUS_LABELS
from ringtrail.services.calls import CallFilters
from ringtrail.services.reports.model import N_

FORM_MARK = "form"
KEEP = "keep"
FLAG_VALUES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
MAX_VALUE_LENGTH = 500

ORIGIN_LABELS: dict[str, str] = {
    CallOrigin.AD: N_("Straight from an ad (static number)"),
    CallOrigin.SITE: N_("After a site visit (dynamic number)"),
    CallOrigin.UNKNOWN: N_("Unknown"),
}
DURATION_LABELS: dict[str, str] = {
    "0-30s": N_("0-30s"),
    "30s-1m": N_("30s-1m"),
    "1-3m": N_("1-3m"),
    "3-5m": N_("3-5m"),
    "5-10m": N_("5-10m"),
    "10m+": N_("10m+"),
    NOT_ANSWERED_BUCKET: N_("Not answered"),
}
WEEKDAY_LABELS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
FILTER_LABELS: dict[str, str] = {
    "from": N_("From"),
    "to": N_("Before"),
    "source": N_("Source"),
    "medium": N_("Medium"),
    "campaign": N_("Campaign"),
    "keyword": N_("Keyword"),
    "landing_page": N_("Landing page"),
    "caller_region": N_("Caller region"),
    "visitor_region": N_("Visitor region"),
    "origin": N_("Where the caller came from"),
    "duration": N_("Talk time"),
    "hour_of_week": N_("Weekday and hour"),
    "status": N_("Status"),
    "first_time": N_("First-time"),
    "unique": N_("Unique"),
    "target": N_("Target"),
    "needs_callback": N_("Needs a callback"),
    "tag": N_("Tag"),
    "number": N_("Tracking number"),
    "caller": N_("Caller"),
    "search": N_("Search"),
    "transcript": N_("Said on the call"),
}
"""Every key the calls log reads, in the order of its canonical query, with its label."""

LIST_KEYS = frozenset({"source", "campaign", "status", "tag"})
DIMENSION_KEYS = frozenset(
    {"source", "medium", "campaign", "keyword", "landing_page", "caller_region", "visitor_region"}
)
"""Keys where an empty value is a filter: the calls without that value ("(not set)")."""
FLAG_KEYS = frozenset({"first_time", "unique", "target", "needs_callback"})
FORM_FIELDS = frozenset(
    {
        "from",
        "to",
        "source",
        "campaign",
        "status",
        "first_time",
        "target",
        "tag",
        "search",
        "transcript",
    }
)
"""Keys the filter form has a field for: sent empty by the form, where empty means "any"."""


@dataclass(frozen=True)
class Chip:
    """An active filter shown above the table, with the link that drops it."""

    key: str
    label: str
    value: str
    remove_query: str
    not_set: bool = False


@dataclass
class CallsQuery:
    """The filters a calls-log URL asks for, as read and as the page shows them."""

    values: dict[str, list[str]] = field(default_factory=dict)
    """Active filters by key (one value except for LIST_KEYS); "" is "(not set)"."""
    errors: list[str] = field(default_factory=list)

    def first(self, key: str) -> str | None:
        """The filter's value, None when it is not active."""
        found = self.values.get(key)
        return found[0] if found else None

    def params(self, leave_out: str | None = None) -> list[tuple[str, str]]:
        """The canonical query of the active filters, in a stable order."""
        return [
            (key, value)
            for key in FILTER_LABELS
            if key != leave_out
            for value in self.values.get(key, [])
        ]

    def query(self, leave_out: str | None = None, **extra: str) -> str:
        """The canonical query string (with `extra`, e.g. a cursor)."""
        return urlencode([*self.params(leave_out), *extra.items()])

    def in_field(self, key: str) -> bool:
        """Whether the form shows this filter in its own field (else as a chip)."""
        values = self.values.get(key, [])
        return key in FORM_FIELDS and len(values) == 1 and values[0] != ""

    def chips(self) -> list[Chip]:
        """The active filters the form has no field for, each removable."""
        return [
            Chip(key, FILTER_LABELS[key], value, self.query(leave_out=key), value == "")
            for key in FILTER_LABELS
            if key in self.values and not self.in_field(key)
            for value in self.values[key]
        ]

    def hidden(self) -> list[tuple[str, str]]:
        """What the form carries unseen: the chips' filters and `keep` naming their keys."""
        chip_keys = [key for key in FILTER_LABELS if key in self.values and not self.in_field(key)]
        carried = [(key, value) for key in chip_keys for value in self.values[key]]
        return [(FORM_MARK, "1"), *carried, *((KEEP, key) for key in chip_keys)]

    def filters(self) -> CallFilters:
        """The service filters; only call after checking `errors` (values are then valid)."""
        flags = {key: FLAG_VALUES[value] for key in FLAG_KEYS if (value := self.first(key))}
        return CallFilters(
            period_from=self.first("from"),
            period_to=self.first("to"),
            sources=self.values.get("source", []),
            medium=self.first("medium"),
            campaigns=self.values.get("campaign", []),
            statuses=self.values.get("status", []),
            first_time=flags.get("first_time"),
            unique=flags.get("unique"),
            target=flags.get("target"),
            needs_callback=flags.get("needs_callback"),
            tags=self.values.get("tag", []),
            number=self.first("number"),
            caller=self.first("caller"),
            keyword=self.first("keyword"),
            landing_page=self.first("landing_page"),
            caller_region=self.first("caller_region"),
            visitor_region=self.first("visitor_region"),
            origin=self.first("origin"),
            duration=self.first("duration"),
            hour_of_week=self.first("hour_of_week"),
            search=self.first("search"),
            transcript=self.first("transcript"),
        )


def _cleaned(values: Sequence[str]) -> list[str]:
    return [value.replace("\x00", "").strip()[:MAX_VALUE_LENGTH] for value in values]


def read_calls_query(query: QueryParams) -> CallsQuery:
    """The calls-log filters of a URL's query (drill-down link, form or canonical)."""
    from_form = query.get(FORM_MARK) == "1"
    kept = set(query.getlist(KEEP))
    read = CallsQuery()
    for key in FILTER_LABELS:
        values = _cleaned(query.getlist(key))
        if from_form and key in FORM_FIELDS and key not in kept:
            values = [value for value in values if value]
        # The same field may come twice (hidden and visible): a value given once is enough.
        values = list(dict.fromkeys(values))
        if key not in DIMENSION_KEYS:
            values = [value for value in values if value]
        if not values:
            continue
        if key not in LIST_KEYS:
            values = values[:1]
        if key in FLAG_KEYS and values[0].lower() not in FLAG_VALUES:
            read.errors.append(N_("Yes/no filters take true or false."))
            continue
        if key in FLAG_KEYS:
            values = [values[0].lower()]
        if key == "status" and any(value not in STATUS_LABELS for value in values):
            read.errors.append(N_("Unknown call status."))
            continue
        if key == "origin" and values[0] not in ORIGIN_LABELS:
            read.errors.append(N_("Unknown call origin."))
            continue
        if key == "duration" and values[0] not in DURATION_LABELS:
            read.errors.append(N_("Unknown talk-time range."))
            continue
        read.values[key] = values
    return read
