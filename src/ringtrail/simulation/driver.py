"""The simulation driver: replays a trace through the real pool rules (`domain/pools`) and the
real attribution (`domain/attribution`) on a simulated clock, and scores every call.

Events (number requests, heartbeats, calls) are ordered by time and run one by one. Each
decision is the domain's: `choose_number` picks the number, `live_hold_of` and
`hold_expires_at` keep a hold alive, `attribute_call` ranks the holds of the dialled number.
The driver only keeps the pool's numbers indexed by reuse order (a heap on `hold_until`,
which is the domain's `reuse_order` for released numbers) so each request hands the domain
the visitor's own hold and the number first in line instead of the whole pool; a test checks
this gives the same answers as the full-scan `PoolModel`.

A visit's heartbeats come every `heartbeat_seconds` while its tab is visible, as `/t.js`
sends them. Heartbeats nothing can observe are skipped: the driver runs the last one of
each visible period, the one on coming back to the tab, the last one before a call during
the visit, and enough in between that the hold never looks ended while heartbeats go on.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ringtrail.domain.attribution import (
    AttributionKind,
    AttributionPolicy,
    DialledNumber,
    EarlierCall,
    HoldRecord,
    NumberKind,
    SourceLabel,
    attribute_call,
    caller_standing,
)
from ringtrail.domain.bots import is_bot
from ringtrail.domain.pool_planning import HoldPolicy, engagement_timings, share
from ringtrail.domain.pools import (
    BEGINNING_OF_TIME,
    AssignmentKind,
    DefaultNumber,
    NumberState,
    PoolTimings,
    choose_number,
    hold_expires_at,
    live_hold_of,
)
from ringtrail.services.call_ingestion import HOLD_LIMIT
from ringtrail.simulation.traffic import Trace, Visit

EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
"""The simulated clock's start (a Monday, midnight UTC)."""
UNIQUE_WINDOW = timedelta(days=30)

# Event kinds, in their order at equal times.
_HEARTBEAT, _ACQUIRE, _CALL = 0, 1, 2


def at(seconds: float) -> datetime:
    """The simulated clock at `seconds` since the start."""
    return EPOCH + timedelta(seconds=seconds)


def timings_of(policy: HoldPolicy, base: PoolTimings, seconds_on_page: float) -> PoolTimings:
    """The hold times a request or heartbeat uses under `policy`."""
    if policy is HoldPolicy.ENGAGED:
        # whole seconds: the engagement thresholds are whole seconds, so nothing changes
        return _engagement_timings(base, int(seconds_on_page))
    return base


@functools.lru_cache(maxsize=4096)
def _engagement_timings(base: PoolTimings, seconds_on_page: int) -> PoolTimings:
    return engagement_timings(base, float(seconds_on_page))


@dataclass
class _Lease:
    lease_id: int
    visit_id: int
    leased_at: datetime
    last_heartbeat_at: datetime
    hold_until: datetime
    source: str

    def record(self, cooldown: timedelta) -> HoldRecord:
        return HoldRecord(
            lease_id=self.lease_id,
            visitor_id=self.visit_id,
            visit_id=self.visit_id,
            leased_at=self.leased_at,
            last_heartbeat_at=self.last_heartbeat_at,
            hold_until=self.hold_until,
            cooldown_until=self.hold_until + cooldown,
            snapshot={"source": self.source},
        )


class SimulatedPool:
    """One pool's numbers, driven by `domain/pools`, with its lease history."""

    def __init__(
        self, name: str, size: int, timings: PoolTimings, first_id: int, label: str | None
    ) -> None:
        self.name = name
        self.timings = timings
        self.label = label
        self.states: dict[int, NumberState] = {
            first_id + i: NumberState(first_id + i, f"+1800{first_id + i:07d}") for i in range(size)
        }
        default_id = first_id + size
        self.default = DefaultNumber(default_id, f"+1800{default_id:07d}")
        self._ends = dict.fromkeys(self.states, BEGINNING_OF_TIME)
        self._heap = [(BEGINNING_OF_TIME, number_id) for number_id in self.states]
        heapq.heapify(self._heap)
        self.own: dict[int, int] = {}
        self.current_lease: dict[int, _Lease] = {}
        self.leases: dict[int, list[_Lease]] = defaultdict(list)
        self.requests = 0
        self.overflows = 0
        self._next_lease = 1

    def _first_in_line(self) -> NumberState | None:
        heap, ends = self._heap, self._ends
        while heap:
            end, number_id = heap[0]
            if ends[number_id] == end:
                return self.states[number_id]
            heapq.heappop(heap)
        return None

    def _set_hold(self, number_id: int, visitor: str, hold_until: datetime) -> None:
        self.states[number_id] = replace(
            self.states[number_id], holder=visitor, hold_until=hold_until
        )
        self._ends[number_id] = hold_until
        heapq.heappush(self._heap, (hold_until, number_id))

    def acquire(self, visit: Visit, now: datetime, timings: PoolTimings) -> str:
        """The number `visit` sees now (the domain's `choose_number`); its E.164."""
        self.requests += 1
        visitor = str(visit.visit_id)
        candidates = []
        own = self.own.get(visit.visit_id)
        if own is not None:
            candidates.append(self.states[own])
        first = self._first_in_line()
        if first is not None:
            candidates.append(first)
        assignment = choose_number(candidates, self.default, visitor, now, timings)
        if assignment.kind is AssignmentKind.OVERFLOW:
            self.overflows += 1
            return self.default.e164
        number_id = assignment.number_id
        assert number_id is not None and assignment.hold_until is not None
        self._set_hold(number_id, visitor, assignment.hold_until)
        if assignment.kind is AssignmentKind.NEW:
            lease = _Lease(
                self._next_lease, visit.visit_id, now, now, assignment.hold_until, visit.source
            )
            self._next_lease += 1
            self.leases[number_id].append(lease)
            self.current_lease[visit.visit_id] = lease
            self.own[visit.visit_id] = number_id
        else:
            lease = self.current_lease[visit.visit_id]
            lease.last_heartbeat_at, lease.hold_until = now, assignment.hold_until
        return self.states[number_id].e164

    def heartbeat(self, visit: Visit, now: datetime, timings: PoolTimings) -> bool:
        """Extend the visit's live hold (`live_hold_of`, `hold_expires_at`); False when it
        holds nothing any more (the tracking script then stops its heartbeats)."""
        number_id = self.own.get(visit.visit_id)
        if number_id is None:
            return False
        own = live_hold_of((self.states[number_id],), str(visit.visit_id), now)
        if own is None:
            return False
        hold_until = hold_expires_at(now, timings)
        self._set_hold(number_id, str(visit.visit_id), hold_until)
        lease = self.current_lease[visit.visit_id]
        lease.last_heartbeat_at, lease.hold_until = now, hold_until
        return True

    def holds_of(
        self,
        number_id: int,
        call_at: datetime,
        policy: AttributionPolicy,
        known_visitors: Collection[int] = (),
    ) -> list[HoldRecord]:
        """The holds the call ingestion would load for a call to `number_id`: started by the
        call (plus clock skew), not ended before the look-back, the latest HOLD_LIMIT, and
        those of the caller's known visitors whatever came after them."""
        latest = call_at + policy.clock_skew
        earliest = call_at - policy.lookback - policy.cooldown
        history = self.leases.get(number_id, [])
        stop = bisect.bisect_right([lease.leased_at for lease in history], latest)
        fitting: list[HoldRecord] = []
        known: list[HoldRecord] = []
        for lease in reversed(history[:stop]):
            if lease.hold_until < earliest:
                continue
            if len(fitting) < HOLD_LIMIT:
                fitting.append(lease.record(self.timings.cooldown))
            elif not known_visitors:
                break
            elif lease.visit_id in known_visitors and len(known) < HOLD_LIMIT:
                known.append(lease.record(self.timings.cooldown))
        return fitting + known

    def number_of(self, e164: str) -> DialledNumber:
        """The dialled number as call ingestion describes it."""
        if e164 == self.default.e164:
            label = SourceLabel(self.label) if self.label else None
            return DialledNumber(NumberKind.POOL_DEFAULT, e164, self.default.number_id, 0, label)
        number_id = int(e164[5:])
        return DialledNumber(NumberKind.POOL, e164, number_id, 0)

    def busy_seconds(self, duration: float) -> float:
        """Number-seconds the pool's numbers were held or cooling within the trace."""
        cooldown = self.timings.cooldown.total_seconds()
        total = 0.0
        for history in self.leases.values():
            for lease in history:
                start = (lease.leased_at - EPOCH).total_seconds()
                end = (lease.hold_until - EPOCH).total_seconds() + cooldown
                total += max(0.0, min(end, duration) - max(start, 0.0))
        return total


@dataclass(frozen=True)
class CallOutcome:
    """What attribution said about one call, and whether it was right."""

    call_id: int
    pool: str
    kind: AttributionKind
    confidence: float
    session_correct: bool
    source_correct: bool
    within_window: bool
    repeat: bool
    visit_id: int | None = None
    """The visit attribution chose (None without a session)."""
    source: str | None = None
    """The source attribution gave."""
    dialled: str = ""


@dataclass(frozen=True)
class PoolResult:
    """One pool's figures."""

    size: int
    requests: int
    overflows: int
    utilisation: float


@dataclass(frozen=True)
class SimulationResult:
    """A run's figures: per pool, and every call's outcome."""

    policy: HoldPolicy
    pools: Mapping[str, PoolResult]
    calls: tuple[CallOutcome, ...]
    seconds: float = 0.0
    events: int = 0
    humans: int = 0
    """Human visits run."""
    kept_window: int = 0
    """Human visits given a number at their first page that nobody else got before their
    last activity + W (what the give-everyone bound counts)."""

    def _window_calls(self, pool: str | None = None) -> list[CallOutcome]:
        return [c for c in self.calls if c.within_window and (pool is None or c.pool == pool)]

    def session_accuracy(self, pool: str | None = None) -> float:
        """The share of calls placed within W of their visit attributed to that session."""
        calls = self._window_calls(pool)
        return share(sum(c.session_correct for c in calls), len(calls))

    def source_accuracy(self, pool: str | None = None) -> float:
        """The share of calls placed within W of their visit given the visit's source."""
        calls = self._window_calls(pool)
        return share(sum(c.source_correct for c in calls), len(calls))

    def all_calls_session_accuracy(self) -> float:
        """Session accuracy over every call, late and repeat ones included."""
        return share(sum(c.session_correct for c in self.calls), len(self.calls))

    def repeat_session_accuracy(self) -> float:
        """Session accuracy of repeat calls (the caller's first visit is the right one)."""
        calls = [c for c in self.calls if c.repeat]
        return share(sum(c.session_correct for c in calls), len(calls))

    @property
    def size(self) -> int:
        """Numbers in all pools."""
        return sum(p.size for p in self.pools.values())

    @property
    def overflow_rate(self) -> float:
        """The share of number requests that found the pool full."""
        requests = sum(p.requests for p in self.pools.values())
        return share(sum(p.overflows for p in self.pools.values()), requests) if requests else 0.0

    @property
    def utilisation(self) -> float:
        """The time-averaged share of numbers held or cooling, over all pools."""
        total = sum(p.size for p in self.pools.values())
        return sum(p.utilisation * p.size for p in self.pools.values()) / total if total else 0.0

    def calibration(self, bins: int = 5) -> list[tuple[float, float, float, int]]:
        """Stored confidence against reality for session attributions: per confidence bin
        (lower edge, mean confidence, share right, calls)."""
        grouped: dict[int, list[CallOutcome]] = defaultdict(list)
        for call in self.calls:
            if call.kind is AttributionKind.SESSION:
                grouped[min(int(call.confidence * bins), bins - 1)].append(call)
        rows = []
        for index in sorted(grouped):
            calls = grouped[index]
            mean = sum(c.confidence for c in calls) / len(calls)
            right = sum(c.session_correct for c in calls) / len(calls)
            rows.append((index / bins, mean, right, len(calls)))
        return rows

    def calibration_error(self) -> float:
        """Expected calibration error: the call-weighted gap between stored confidence and
        the share of session attributions that were right."""
        rows = self.calibration(10)
        total = sum(n for *_, n in rows)
        return sum(abs(mean - right) * n for _, mean, right, n in rows) / total if total else 0.0


def _heartbeats(
    visit: Visit,
    policy: HoldPolicy,
    base: PoolTimings,
    every: float,
    after: float,
    calls: Sequence[float],
) -> list[float]:
    """The heartbeats of `visit` after `after` that can change what anyone sees: the first
    on coming back to the tab, the last of each visible period, the last before each call,
    and one every half grace (the grace the last one kept gave) so the hold never looks
    ended while heartbeats go on."""
    kept: list[float] = []
    seen = 0.0
    for index, (a, b) in enumerate(visit.segments):
        first = a if index > 0 else a + every
        if first < after:
            first += math.ceil((after - first) / every) * every
        if first > b:
            seen += b - a
            continue
        count = int((b - first) // every) + 1
        picks = {count - 1}
        i = 0
        while i < count:
            picks.add(i)
            on_page = seen + (first + i * every - a)
            grace = timings_of(policy, base, on_page).grace.total_seconds()
            i += max(1, int(grace * 0.5 // every))
        for call in calls:
            if first <= call <= b + every:
                picks.add(min(int((call - first) // every), count - 1))
        kept.extend(first + i * every for i in sorted(picks))
        seen += b - a
    return kept


def simulate(
    trace: Trace,
    sizes: Mapping[str, int],
    policy: HoldPolicy = HoldPolicy.LRU,
    *,
    timings: PoolTimings | None = None,
) -> SimulationResult:
    """Run `trace` through pools of `sizes` (pool name -> numbers) under `policy`. Only the
    visits and calls of the named pools are run."""
    started = time.perf_counter()
    scenario = trace.scenario
    base = timings or scenario.timings
    attribution_policy = AttributionPolicy(cooldown=base.cooldown)
    pools: dict[str, SimulatedPool] = {}
    first_id = 1
    for name, size in sorted(sizes.items()):
        label = name if scenario.pools == "per_source" else None
        pools[name] = SimulatedPool(name, size, base, first_id, label)
        first_id += size + 1
    visits = {v.visit_id: v for v in trace.visits if v.pool in pools}
    calls = [c for c in trace.calls if c.visit_id in visits]
    calls_of: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        if not call.repeat:
            calls_of[call.visit_id].append(call.at)
    events: list[tuple[float, int, int]] = []
    for visit in visits.values():
        if is_bot(visit.user_agent):
            continue  # bots see the default number and take nothing (services/visits.py)
        if policy is HoldPolicy.INTENT:
            if visit.phone_seen_at is None:
                continue
            take = visit.phone_seen_at
        else:
            take = visit.start
        events.append((take, _ACQUIRE, visit.visit_id))
        for beat in _heartbeats(
            visit, policy, base, scenario.heartbeat_seconds, take, calls_of.get(visit.visit_id, [])
        ):
            if beat > take:
                events.append((beat, _HEARTBEAT, visit.visit_id))
    for call in calls:
        events.append((call.at, _CALL, call.call_id))
    events.sort()
    by_call = {c.call_id: c for c in calls}
    engaged = policy is HoldPolicy.ENGAGED
    shown: dict[int, tuple[SimulatedPool, str]] = {}
    dialled_first: dict[int, str] = {}
    stopped: set[int] = set()
    earlier: dict[str, list[EarlierCall]] = defaultdict(list)
    outcomes: list[CallOutcome] = []
    for seconds, kind, ident in events:
        now = at(seconds)
        if kind == _HEARTBEAT:
            if ident in stopped:
                continue
            visit = visits[ident]
            pool = pools[visit.pool]
            on_page = _on_page(visit, seconds) if engaged else 0.0
            if not pool.heartbeat(visit, now, timings_of(policy, base, on_page)):
                stopped.add(ident)
        elif kind == _ACQUIRE:
            visit = visits[ident]
            pool = pools[visit.pool]
            on_page = _on_page(visit, seconds) if engaged else 0.0
            shown[ident] = (pool, pool.acquire(visit, now, timings_of(policy, base, on_page)))
        else:
            call = by_call[ident]
            visit = visits[call.visit_id]
            pool = pools[visit.pool]
            e164 = dialled_first.get(call.visit_id) if call.repeat else None
            if e164 is None:
                e164 = shown[call.visit_id][1] if call.visit_id in shown else pool.default.e164
                dialled_first.setdefault(call.visit_id, e164)
            number = pool.number_of(e164)
            standing = caller_standing(earlier[call.caller], now, UNIQUE_WINDOW)
            holds = (
                pool.holds_of(
                    number.number_id or 0, now, attribution_policy, standing.known_visitors
                )
                if number.kind is NumberKind.POOL
                else []
            )
            attribution = attribute_call(
                number,
                now,
                holds,
                policy=attribution_policy,
                known_visitors=standing.known_visitors,
            )
            chosen = attribution.chosen
            visitor_id = chosen.hold.visitor_id if chosen else standing.previous_visitor_id
            earlier[call.caller].append(EarlierCall(call.call_id, now, visitor_id, None))
            given = attribution.label
            outcomes.append(
                CallOutcome(
                    call_id=call.call_id,
                    pool=visit.pool,
                    kind=attribution.kind,
                    confidence=attribution.confidence,
                    session_correct=chosen is not None and chosen.hold.visit_id == call.visit_id,
                    source_correct=given is not None and given.source == visit.source,
                    within_window=call.within_window,
                    repeat=call.repeat,
                    visit_id=chosen.hold.visit_id if chosen else None,
                    source=given.source if given else None,
                    dialled=e164,
                )
            )
    results = {
        name: PoolResult(
            size=len(pool.states),
            requests=pool.requests,
            overflows=pool.overflows,
            utilisation=(
                pool.busy_seconds(trace.duration) / (len(pool.states) * trace.duration)
                if pool.states
                else 0.0
            ),
        )
        for name, pool in pools.items()
    }
    humans = [v for v in visits.values() if not is_bot(v.user_agent)]
    return SimulationResult(
        policy,
        results,
        tuple(outcomes),
        time.perf_counter() - started,
        len(events),
        humans=len(humans),
        kept_window=_kept_window(pools.values(), visits, scenario.window),
    )


def _kept_window(
    pools: Iterable[SimulatedPool], visits: Mapping[int, Visit], window: timedelta
) -> int:
    """Visits whose number was theirs from their first page to last activity + W."""
    kept = 0
    for pool in pools:
        for history in pool.leases.values():
            for lease, following in zip(history, [*history[1:], None], strict=True):
                visit = visits[lease.visit_id]
                if lease.leased_at != at(visit.start):
                    continue
                if following is None or following.leased_at >= at(visit.end) + window:
                    kept += 1
    return kept


def _on_page(visit: Visit, seconds: float) -> float:
    """Visible seconds of `visit` up to `seconds`."""
    total = 0.0
    for a, b in visit.segments:
        if seconds <= a:
            break
        total += min(seconds, b) - a
    return total
