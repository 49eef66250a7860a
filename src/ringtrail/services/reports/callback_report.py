"""The callbacks report: requests from the widget, how many were connected, how fast.

Read from `callback_requests` (services.callback_requests) joined with their leads for the
source, medium and campaign: callbacks requested, connected, the share connected, seconds
from the request to the customer answering (median and average, of the connected ones),
talk time, and callbacks as a share of all leads of the period. Tables by source and by day,
and one of how the requests ended (connected, business or customer did not answer, failed,
still waiting or scheduled, settled by a person). The period is the request's local day; the
report's source and campaign filters apply, the call filters (status, tag) do not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import func, select

from ringtrail.domain.reports.facts import NOT_SET
from ringtrail.services.reports.context import ReportContext, headline, share_of
from ringtrail.services.reports.engine import ReportScope, lead_rows, sum_by
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
from ringtrail.storage.models import CallbackRequest, Lead

OUTCOMES: Sequence[tuple[str, str]] = (
    ("connected", N_("Connected")),
    ("business_no_answer", N_("The business did not answer")),
    ("customer_no_answer", N_("The customer did not answer")),
    ("failed", N_("The call failed")),
    ("waiting", N_("Waiting or scheduled")),
    ("done", N_("Settled by a person")),
)


@dataclass
class CallbackFigures:
    """The figures of a group of callback requests."""

    requested: int = 0
    connected: int = 0
    talk_seconds: int = 0
    to_connect: list[int] = field(default_factory=list)

    def add(self, status: str, seconds_to_connect: int | None, talk: int | None) -> None:
        self.requested += 1
        if status == "connected":
            self.connected += 1
            self.talk_seconds += talk or 0
            if seconds_to_connect is not None:
                self.to_connect.append(seconds_to_connect)

    @property
    def connected_share(self) -> float | None:
        return share_of(self.connected, self.requested)

    @property
    def median_to_connect(self) -> float | None:
        return float(median(self.to_connect)) if self.to_connect else None

    @property
    def average_to_connect(self) -> float | None:
        return sum(self.to_connect) / len(self.to_connect) if self.to_connect else None

    def cells(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "connected": self.connected,
            "connected_share": self.connected_share,
            "median_to_connect": self.median_to_connect,
            "talk_seconds": self.talk_seconds,
        }


@dataclass(frozen=True)
class _Request:
    day: date
    source: str
    status: str
    outcome: str
    seconds_to_connect: int | None
    talk_seconds: int | None


def _requests(context: ReportContext, scope: ReportScope) -> list[_Request]:
    start, end = scope.period.utc_bounds(scope.zone)
    query = (
        select(
            CallbackRequest.requested_at,
            func.coalesce(Lead.source, ""),
            CallbackRequest.status,
            CallbackRequest.last_outcome,
            CallbackRequest.seconds_to_connect,
            CallbackRequest.talk_seconds,
        )
        .select_from(CallbackRequest)
        .outerjoin(Lead, Lead.id == CallbackRequest.lead_id)
        .where(
            CallbackRequest.project_id == scope.project_id,
            CallbackRequest.requested_at >= start,
            CallbackRequest.requested_at < end,
        )
    )
    if scope.filters.sources:
        query = query.where(func.coalesce(Lead.source, "").in_(scope.filters.sources))
    if scope.filters.campaigns:
        query = query.where(func.coalesce(Lead.campaign, "").in_(scope.filters.campaigns))
    rows = []
    for requested_at, source, status, outcome, to_connect, talk in context.db.execute(query):
        rows.append(
            _Request(
                requested_at.astimezone(scope.zone).date(),
                source or NOT_SET,
                status,
                _outcome(status, outcome),
                to_connect,
                talk,
            )
        )
    return rows


def _outcome(status: str, last_outcome: str | None) -> str:
    if status == "connected":
        return "connected"
    if status in ("waiting", "calling"):
        return "waiting"
    if status == "done":
        return "done"
    return last_outcome if last_outcome in dict(OUTCOMES) else "failed"


def _figures(requests: Iterable[_Request]) -> CallbackFigures:
    figures = CallbackFigures()
    for request in requests:
        figures.add(request.status, request.seconds_to_connect, request.talk_seconds)
    return figures


def _all_leads(context: ReportContext, scope: ReportScope) -> tuple[int, int]:
    """All leads of the scope, and those of kind `callback`."""
    by_kind = sum_by(lead_rows(context.db, scope, keep=("kind",)), lambda key: key.kind)
    return sum(by_kind.values()), by_kind.get("callback", 0)


FIGURE_COLUMNS = [
    Column("requested", N_("Callbacks requested"), ValueKind.COUNT),
    Column("connected", N_("Callbacks connected"), ValueKind.COUNT),
    Column("connected_share", N_("Share connected"), ValueKind.SHARE),
    Column("median_to_connect", N_("Seconds to connect (median)"), ValueKind.SECONDS),
    Column("talk_seconds", N_("Talk time"), ValueKind.SECONDS),
]


def callbacks(context: ReportContext) -> Report:
    """The callbacks report (see the module's docstring)."""
    now = _requests(context, context.scope)
    before = _requests(context, context.previous)
    total_now, total_before = _figures(now), _figures(before)
    leads_now, callback_leads_now = _all_leads(context, context.scope)
    leads_before, callback_leads_before = _all_leads(context, context.previous)

    by_source: dict[str, list[_Request]] = defaultdict(list)
    by_day: dict[date, list[_Request]] = defaultdict(list)
    outcomes: dict[str, int] = defaultdict(int)
    for request in now:
        by_source[request.source].append(request)
        by_day[request.day].append(request)
        outcomes[request.outcome] += 1
    source_rows = [
        Row({"source": source, **_figures(rows).cells()}, context.drill(source=source))
        for source, rows in sorted(by_source.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    sources = Table(
        "by_source",
        N_("By source"),
        [Column("source", N_("Source"), ValueKind.TEXT), *FIGURE_COLUMNS],
        source_rows,
        {"source": N_("Total"), **total_now.cells()},
    )
    days = Table(
        "by_day",
        N_("By day"),
        [Column("day", N_("Day"), ValueKind.DATE), *FIGURE_COLUMNS],
        [
            Row({"day": day, **_figures(by_day.get(day, [])).cells()})
            for day in context.period.dates()
        ],
        {"day": N_("Total"), **total_now.cells()},
    )
    outcome_table = Table(
        "outcomes",
        N_("How the requests ended"),
        [
            Column("outcome", N_("Outcome"), ValueKind.TEXT, translate=True),
            Column("requests", N_("Requests"), ValueKind.COUNT),
            Column("share", N_("Share"), ValueKind.SHARE),
        ],
        [
            Row(
                {
                    "outcome": label,
                    "requests": outcomes.get(key, 0),
                    "share": share_of(outcomes.get(key, 0), len(now)),
                }
            )
            for key, label in OUTCOMES
        ],
        {"outcome": N_("Total"), "requests": len(now), "share": 1.0 if now else None},
    )
    return context.report(
        "callbacks",
        headlines=[
            headline(
                "requested",
                N_("Callbacks requested"),
                ValueKind.COUNT,
                total_now.requested,
                total_before.requested,
            ),
            headline(
                "connected",
                N_("Callbacks connected"),
                ValueKind.COUNT,
                total_now.connected,
                total_before.connected,
            ),
            headline(
                "connected_share",
                N_("Share connected"),
                ValueKind.SHARE,
                total_now.connected_share,
                total_before.connected_share,
            ),
            headline(
                "median_to_connect",
                N_("Seconds to connect (median)"),
                ValueKind.SECONDS,
                total_now.median_to_connect,
                total_before.median_to_connect,
            ),
            headline(
                "average_to_connect",
                N_("Seconds to connect (average)"),
                ValueKind.SECONDS,
                total_now.average_to_connect,
                total_before.average_to_connect,
            ),
            headline(
                "share_of_leads",
                N_("Callbacks among all leads"),
                ValueKind.SHARE,
                share_of(callback_leads_now, leads_now),
                share_of(callback_leads_before, leads_before),
            ),
        ],
        tables=[outcome_table, sources, days],
        charts=[
            Chart(ChartKind.BAR, "outcomes", "outcome", ["requests"], N_("How the requests ended")),
            Chart(ChartKind.LINE, "by_day", "day", ["requested", "connected"], N_("By day")),
        ],
        notes=[
            N_(
                "Seconds to connect run from the visitor's request to the customer answering "
                "the call back; requests made outside working hours count from the request too."
            )
        ],
    )
