"""Simulation scenarios: a site's traffic and callers described in a TOML file, and the presets
that ship with Ringtrail (`presets/*.toml`, loaded by name)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from ringtrail.domain.pool_planning import timings_for_window
from ringtrail.domain.pools import PoolTimings

PRESETS = ("clinic-5k", "shop-800", "agency-40k")


class ScenarioError(ValueError):
    """A scenario file that cannot be read or makes no sense."""


@dataclass(frozen=True)
class Scenario:
    """Everything the traffic generator needs; see docs/performance.md for each field."""

    name: str = "custom"
    days: float = 30
    seed: int = 1
    visits_per_day: float = 5000
    day_share: float = 0.7
    day_start_hour: int = 9
    day_end_hour: int = 21
    bot_share: float = 0.05
    visit_median_seconds: float = 100
    visit_sigma: float = 1.2
    heartbeat_seconds: float = 15
    hidden_share: float = 0.2
    hidden_median_seconds: float = 180
    hidden_sigma: float = 1.0
    phone_seen_share: float = 0.25
    call_share: float = 0.03
    call_during_visit_share: float = 0.65
    call_delay_median_seconds: float = 240
    call_delay_sigma: float = 1.5
    repeat_share: float = 0.1
    repeat_days: float = 7
    window_minutes: float = 30
    grace_minutes: float = 10
    pools: str = "per_source"
    sources: dict[str, float] = field(default_factory=lambda: {"direct": 1.0})

    def __post_init__(self) -> None:
        problems = []
        for name in ("bot_share", "day_share", "hidden_share", "phone_seen_share", "call_share"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must be between 0 and 1")
        if self.call_share > self.phone_seen_share:
            problems.append("call_share must not exceed phone_seen_share (callers saw a number)")
        if not 0 <= self.call_during_visit_share <= 1 or not 0 <= self.repeat_share <= 1:
            problems.append("call_during_visit_share and repeat_share must be between 0 and 1")
        if not 0 <= self.day_start_hour < self.day_end_hour <= 24:
            problems.append("day hours must satisfy 0 <= day_start_hour < day_end_hour <= 24")
        if self.days <= 0 or self.visits_per_day < 0 or self.heartbeat_seconds <= 0:
            problems.append("days and heartbeat_seconds must be positive")
        if not self.sources or any(v < 0 for v in self.sources.values()):
            problems.append("sources must name at least one source with a share >= 0")
        if self.pools not in ("per_source", "shared"):
            problems.append("pools must be per_source or shared")
        if self.grace_minutes <= 0 or self.grace_minutes >= self.window_minutes:
            problems.append("grace_minutes must be positive and below window_minutes")
        if problems:
            raise ScenarioError("; ".join(problems))

    @property
    def window(self) -> timedelta:
        """W: how long after a visitor's last heartbeat their number stays theirs."""
        return timedelta(minutes=self.window_minutes)

    @property
    def timings(self) -> PoolTimings:
        """The pools' hold times: the scenario's grace, the rest of W cool-down."""
        return timings_for_window(self.window, timedelta(minutes=self.grace_minutes))

    def pool_of(self, source: str) -> str:
        """The pool a visit from `source` takes its number from."""
        return source if self.pools == "per_source" else "shared"

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (e.g. fewer days)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Scenario(**values)


def scenario_from_mapping(data: dict[str, Any]) -> Scenario:
    """A scenario from parsed TOML; unknown keys are an error (a typo would go unnoticed)."""
    known = {f.name for f in fields(Scenario)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"unknown scenario keys: {', '.join(unknown)}")
    values = dict(data)
    if "sources" in values:
        values["sources"] = {str(k): float(v) for k, v in dict(values["sources"]).items()}
    try:
        return Scenario(**values)
    except TypeError as exc:
        raise ScenarioError(str(exc)) from exc


def load_scenario(name_or_path: str) -> Scenario:
    """A preset by name (`clinic-5k`) or a TOML file by path."""
    if name_or_path in PRESETS:
        text = (
            resources.files("ringtrail.simulation")
            .joinpath("presets", f"{name_or_path}.toml")
            .read_text(encoding="utf-8")
        )
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(
                f"{name_or_path}: no such file, and not a preset ({', '.join(PRESETS)})"
            )
        text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name_or_path}: {exc}") from exc
    return scenario_from_mapping(data)
