"""Each project's share of the time source rules may take, so one project cannot stall others.

Visit starts of every project run on the same few threads of a process. A visit's rules get
`VISIT_BUDGET_SECONDS` at most, taken from its project's share: a bucket of `SHARE_SECONDS`
that refills at `REFILL_PER_SECOND`. What a visit did not use goes back at once, so rules that
are quick never feel the share; a project whose rules are slow soon finds its share spent, and
its visits then start on their built-in classification without trying the rules, while the
threads stay free for everyone else. Shares are per process and kept only in memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from ringtrail.domain.source_rules import (
    VISIT_BUDGET_SECONDS,
    Decision,
    Rule,
    RuleBudget,
    apply_rules,
)
from ringtrail.domain.sources import Classification

SHARE_SECONDS = 2.0
REFILL_PER_SECOND = 1.0
MAX_PROJECTS = 10_000
SHARE_SPENT = (
    "rules stopped: this project's rules have used their share of time for now (slow regular "
    "expressions); the visit keeps its built-in classification and the site's own number"
)


class RuleTimeShares:
    """Per-project buckets of rule time for one process. Thread-safe."""

    def __init__(
        self,
        *,
        per_visit: float = VISIT_BUDGET_SECONDS,
        share: float = SHARE_SECONDS,
        refill: float = REFILL_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_visit = per_visit
        self.share = share
        self.refill = refill
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # project: (seconds left, as of)
        self._lock = threading.Lock()

    def apply(
        self, project_id: int, classification: Classification, rules: Sequence[Rule]
    ) -> Decision:
        """The rules' decision, within the visit's budget and the project's share."""
        if not rules:
            return apply_rules(classification, rules)
        granted = self._take(project_id)
        reason = SHARE_SPENT if granted < self.per_visit else None
        started = self._clock()
        try:
            return apply_rules(classification, rules, RuleBudget(granted, self._clock, reason))
        finally:
            self._settle(project_id, granted, self._clock() - started)

    def left(self, project_id: int) -> float:
        """Seconds left in the project's share now."""
        with self._lock:
            return self._refilled(project_id, self._clock())

    def _take(self, project_id: int) -> float:
        now = self._clock()
        with self._lock:
            left = self._refilled(project_id, now)
            granted = max(0.0, min(self.per_visit, left))
            if project_id not in self._buckets and len(self._buckets) >= MAX_PROJECTS:
                self._forget_full(now)
            self._buckets[project_id] = (left - granted, now)
        return granted

    def _settle(self, project_id: int, granted: float, spent: float) -> None:
        """Give back what the visit did not use (or take what it overran)."""
        with self._lock:
            entry = self._buckets.get(project_id)
            if entry is not None:
                left, as_of = entry
                self._buckets[project_id] = (min(self.share, left + granted - spent), as_of)

    def _refilled(self, project_id: int, now: float) -> float:
        entry = self._buckets.get(project_id)
        if entry is None:
            return self.share
        left, as_of = entry
        return min(self.share, left + max(0.0, now - as_of) * self.refill)

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that are full again (as good as new); all of them if none is."""
        full = [pid for pid in self._buckets if self._refilled(pid, now) >= self.share]
        for project_id in full:
            del self._buckets[project_id]
        if len(self._buckets) >= MAX_PROJECTS:
            self._buckets.clear()
