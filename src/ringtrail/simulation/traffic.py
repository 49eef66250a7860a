"""Traffic generation: a scenario's visits (with their visible and hidden periods and the
moment a phone number scrolled into view) and calls (first and repeat), as a `Trace`.

Times are seconds since the trace's start; the same seed gives the same trace.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass

from ringtrail.domain.pool_planning import VisitSpan
from ringtrail.simulation.scenario import Scenario

HUMAN_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
BOT_USER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
DAY = 86400.0


@dataclass(frozen=True)
class Visit:
    """One visit: its visible periods in order (a hidden tab leaves a gap between two)."""

    visit_id: int
    source: str
    pool: str
    segments: tuple[tuple[float, float], ...]
    user_agent: str
    phone_seen_at: float | None = None

    @property
    def start(self) -> float:
        """When the first page opened."""
        return self.segments[0][0]

    @property
    def end(self) -> float:
        """The visit's last activity: the end of its last visible period."""
        return self.segments[-1][1]

    @property
    def seconds_on_page(self) -> float:
        """Visible time in all."""
        return sum(b - a for a, b in self.segments)

    def visible_at(self, offset: float) -> float:
        """The moment `offset` seconds of visible time after the start."""
        for a, b in self.segments:
            if offset <= b - a:
                return a + offset
            offset -= b - a
        return self.end


@dataclass(frozen=True)
class Call:
    """A call and the truth about it: the visit that made it (for a repeat, the visit of the
    caller's first call), and whether it was placed within W of that visit."""

    call_id: int
    at: float
    visit_id: int
    caller: str
    repeat: bool
    within_window: bool


@dataclass(frozen=True)
class Trace:
    """A scenario's generated traffic: visits by start, calls by time."""

    scenario: Scenario
    duration: float
    visits: tuple[Visit, ...]
    calls: tuple[Call, ...]

    def humans(self) -> Iterable[Visit]:
        """The visits that are not bots' (bots are told apart by their User-Agent)."""
        return (v for v in self.visits if v.user_agent != BOT_USER_AGENT)

    def spans(self) -> list[VisitSpan]:
        """The human visits as the bounds see them."""
        called = {c.visit_id for c in self.calls if not c.repeat}
        return [VisitSpan(v.start, v.end, v.visit_id in called, v.pool) for v in self.humans()]

    def daily_visits_by_pool(self) -> dict[str, float]:
        """Visits a day per pool (bots included: the vendors' rules count visitors)."""
        counts: dict[str, int] = {}
        for visit in self.visits:
            counts[visit.pool] = counts.get(visit.pool, 0) + 1
        days = self.duration / DAY
        return {pool: n / days for pool, n in sorted(counts.items())}

    def peak_hourly_visits_by_pool(self, humans_only: bool = False) -> dict[str, int]:
        """The visits of each pool's busiest hour (bots left out with `humans_only`)."""
        hours: dict[tuple[str, int], int] = {}
        for visit in self.humans() if humans_only else self.visits:
            key = (visit.pool, int(visit.start // 3600))
            hours[key] = hours.get(key, 0) + 1
        peaks: dict[str, int] = {}
        for (pool, _), n in hours.items():
            peaks[pool] = max(peaks.get(pool, 0), n)
        return dict(sorted(peaks.items()))

    def mean_session_minutes(self) -> float:
        """The mean visible time of human visits, in minutes."""
        lengths = [v.seconds_on_page for v in self.humans()]
        return sum(lengths) / len(lengths) / 60 if lengths else 0.0


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _arrivals(rng: random.Random, scenario: Scenario, duration: float) -> list[float]:
    """Poisson arrivals, hour by hour, at the scenario's day or night rate."""
    day_hours = scenario.day_end_hour - scenario.day_start_hour
    night_hours = 24 - day_hours
    day_rate = scenario.visits_per_day * scenario.day_share / day_hours
    night_rate = (
        scenario.visits_per_day * (1 - scenario.day_share) / night_hours if night_hours else 0
    )
    times: list[float] = []
    hour = 0
    while hour * 3600 < duration:
        in_day = scenario.day_start_hour <= hour % 24 < scenario.day_end_hour
        rate = (day_rate if in_day else night_rate) / 3600
        start, end = hour * 3600.0, min((hour + 1) * 3600.0, duration)
        if rate > 0:
            t = start + rng.expovariate(rate)
            while t < end:
                times.append(t)
                t += rng.expovariate(rate)
        hour += 1
    return times


def generate(scenario: Scenario) -> Trace:
    """The scenario's visits and calls, from its seed."""
    rng = random.Random(scenario.seed)  # noqa: S311 - a reproducible simulation, not a secret
    duration = scenario.days * DAY
    window = scenario.window.total_seconds()
    names = list(scenario.sources)
    weights = [scenario.sources[n] for n in names]
    human_share = 1 - scenario.bot_share
    seen_share = min(1.0, scenario.phone_seen_share / human_share) if human_share else 0.0
    call_given_seen = (
        scenario.call_share / scenario.phone_seen_share if scenario.phone_seen_share else 0.0
    )
    visits: list[Visit] = []
    calls: list[Call] = []
    caller_count = 0
    for start in _arrivals(rng, scenario, duration):
        visit_id = len(visits) + 1
        source = rng.choices(names, weights)[0]
        bot = rng.random() < scenario.bot_share
        length = _lognormal(rng, scenario.visit_median_seconds, scenario.visit_sigma)
        if not bot and rng.random() < scenario.hidden_share:
            cut = rng.uniform(0, length)
            hidden = _lognormal(rng, scenario.hidden_median_seconds, scenario.hidden_sigma)
            segments: tuple[tuple[float, float], ...] = (
                (start, start + cut),
                (start + cut + hidden, start + length + hidden),
            )
        else:
            segments = ((start, start + length),)
        seen_at = None
        visit = Visit(
            visit_id,
            source,
            scenario.pool_of(source),
            segments,
            BOT_USER_AGENT if bot else HUMAN_USER_AGENT,
        )
        if not bot and rng.random() < seen_share:
            seen_offset = rng.uniform(0, length)
            seen_at = visit.visible_at(seen_offset)
            visit = Visit(visit_id, source, visit.pool, segments, visit.user_agent, seen_at)
            if rng.random() < call_given_seen:
                if rng.random() < scenario.call_during_visit_share:
                    at = visit.visible_at(rng.uniform(seen_offset, length))
                else:
                    at = visit.end + _lognormal(
                        rng, scenario.call_delay_median_seconds, scenario.call_delay_sigma
                    )
                caller_count += 1
                caller = f"+1555{caller_count:07d}"
                if at < duration:
                    calls.append(Call(0, at, visit_id, caller, False, at <= visit.end + window))
                if rng.random() < scenario.repeat_share:
                    again = at + rng.uniform(600, scenario.repeat_days * DAY)
                    if again < duration:
                        calls.append(Call(0, again, visit_id, caller, True, False))
        visits.append(visit)
    calls.sort(key=lambda c: c.at)
    numbered = tuple(
        Call(i, c.at, c.visit_id, c.caller, c.repeat, c.within_window)
        for i, c in enumerate(calls, start=1)
    )
    return Trace(scenario, duration, tuple(visits), numbered)


def trace_of(scenario: Scenario, days: float | None = None) -> Trace:
    """`generate`, optionally over fewer days than the scenario says."""
    return generate(scenario if days is None else scenario.replace(days=days))
