"""The run's figures: requests and errors by kind, and how long each fault's effects lasted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from faults.load import Attempt, Ledger


@dataclass
class Fault:
    """One fault: what was done, when it began and when the script's part of it was over
    (the process restarted by its supervisor, Redis or PostgreSQL up again, the link healed)."""

    name: str
    started: float = 0.0
    ended: float = 0.0
    note: str = ""


@dataclass
class FaultFigures:
    """A fault's effect on the requests sent from its start until the next fault's start."""

    fault: Fault
    requests: int
    errors: Counter[str] = field(default_factory=Counter)
    recovery: float = 0.0
    """Seconds from the fault's end to the last failed request sent (0: none after its end)."""
    first_success: float | None = None
    """Seconds from the fault's end to the first request answered with success."""


def fault_figures(
    attempts: Sequence[Attempt], faults: Sequence[Fault], horizon: float
) -> list[FaultFigures]:
    """Per fault, the requests that ended between its start and the next fault's start (or
    `horizon`): a request in flight when a fault begins counts for that fault."""
    figures = []
    for index, fault in enumerate(faults):
        until = faults[index + 1].started if index + 1 < len(faults) else horizon
        window = [a for a in attempts if fault.started <= a.done < until]
        failed = [a for a in window if a.failed]
        last = max((a.sent for a in failed), default=None)
        successes = [a.done for a in window if not a.failed and a.sent >= fault.ended]
        figures.append(
            FaultFigures(
                fault=fault,
                requests=len(window),
                errors=Counter(a.outcome for a in failed),
                recovery=max(0.0, last - fault.ended) if last is not None else 0.0,
                first_success=min(successes) - fault.ended if successes else None,
            )
        )
    return figures


def failures_without_fault(attempts: Sequence[Attempt], faults: Sequence[Fault]) -> list[str]:
    """Requests that failed before the first fault began."""
    first = faults[0].started if faults else float("inf")
    return [
        f"{a.kind} to port {a.port}: {a.outcome}" for a in attempts if a.failed and a.done < first
    ]


def server_errors(attempts: Sequence[Attempt]) -> list[str]:
    """Failures that are the server's own errors: a 5xx other than a 503 with Retry-After."""
    counts = Counter(
        (a.kind, a.outcome)
        for a in attempts
        if a.outcome.startswith("http 5") and a.outcome != "http 503"
    )
    return [f"{count} {kind} answered {outcome}" for (kind, outcome), count in counts.items()]


def request_figures(ledger: Ledger) -> dict[str, Any]:
    """Totals: attempts by kind and outcome, and the call senders' retries."""
    attempts = ledger.attempts
    by_kind: dict[str, Counter[str]] = {}
    for attempt in attempts:
        by_kind.setdefault(attempt.kind, Counter())[attempt.outcome] += 1
    deliveries = list(ledger.deliveries.values())
    return {
        "requests": len(attempts),
        "answered_2xx": sum(a.outcome == "ok" for a in attempts),
        "errors": dict(Counter(a.outcome for a in attempts if a.outcome != "ok").most_common()),
        "by_kind": {kind: dict(counts.most_common()) for kind, counts in sorted(by_kind.items())},
        "call_events": len(deliveries),
        "call_events_accepted": sum(d.accepted for d in deliveries),
        "call_events_refused_at_first": sum(d.refused > 0 for d in deliveries),
        "call_event_retries": sum(d.refused for d in deliveries),
        "visits_answered": len(ledger.visits),
        "holds_seen": len(ledger.holds),
    }
