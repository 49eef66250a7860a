"""Folding calls into rollup rows: (local day, dimension, value, filter columns) -> counts.

A rollup row is keyed by the project's local day, one report dimension and its value, and the
four columns a report can be filtered by (source, campaign, status, first-time). Each call
adds to one row of every dimension. The fold is the single definition of a rollup: the
refresh job stores its result, and a report over days not yet rolled up folds the raw calls
the same way, so both paths give the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from operator import add
from zoneinfo import ZoneInfo

from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.facts import (
    CallFact,
    LeadFact,
    duration_bucket,
    hour_of_week,
    origin_of,
)
from ringtrail.domain.reports.periods import local_day


class Dimension(StrEnum):
    """What a rollup row's `value` is. Source and campaign are key columns of every row."""

    TOTAL = "total"
    """One row per day and filter combination; value is empty."""
    MEDIUM = "medium"
    KEYWORD = "keyword"
    LANDING_PAGE = "landing_page"
    CALLER_REGION = "caller_region"
    VISITOR_REGION = "visitor_region"
    ORIGIN = "origin"
    HOUR_OF_WEEK = "hour_of_week"
    DURATION = "duration"


@dataclass(frozen=True, order=True)
class RollupKey:
    """Where one call's counts go for one dimension."""

    day: date
    dimension: str
    value: str
    source: str
    campaign: str
    status: str
    first_time: bool


def dimension_value(fact: CallFact, dimension: Dimension, zone: ZoneInfo) -> str:
    """The value a call has for `dimension`."""
    if dimension is Dimension.TOTAL:
        return ""
    if dimension is Dimension.ORIGIN:
        return origin_of(fact.attribution_kind).value
    if dimension is Dimension.HOUR_OF_WEEK:
        return hour_of_week(fact.started_at, zone)
    if dimension is Dimension.DURATION:
        return duration_bucket(fact.status, fact.talk_seconds)
    value: str = getattr(fact, dimension.value)
    return value


def fold_calls(
    facts: Iterable[CallFact], zone: ZoneInfo, dimensions: Iterable[Dimension] = tuple(Dimension)
) -> dict[RollupKey, CallCounts]:
    """The rollup rows the calls make for `dimensions` (all by default), in time zone `zone`."""
    wanted = tuple(dimensions)
    sums: dict[RollupKey, list[int]] = {}
    for fact in facts:
        values = CallCounts.values_of(fact)
        day = local_day(fact.started_at, zone)
        first_time = bool(fact.is_first_time)
        for dimension in wanted:
            key = RollupKey(
                day,
                dimension.value,
                dimension_value(fact, dimension, zone),
                fact.source,
                fact.campaign,
                fact.status,
                first_time,
            )
            total = sums.get(key)
            if total is None:
                sums[key] = list(values)
            else:
                total[:] = map(add, total, values)
    return {key: CallCounts(*total) for key, total in sums.items()}


@dataclass(frozen=True, order=True)
class LeadKey:
    """Where one lead counts: local day, kind, source, campaign, target flag."""

    day: date
    kind: str
    source: str
    campaign: str
    is_target: bool | None


def fold_leads(facts: Iterable[LeadFact], zone: ZoneInfo) -> dict[LeadKey, int]:
    """Leads counted by local day, kind, source, campaign and target flag."""
    rows: dict[LeadKey, int] = {}
    for fact in facts:
        key = LeadKey(
            local_day(fact.created_at, zone), fact.kind, fact.source, fact.campaign, fact.is_target
        )
        rows[key] = rows.get(key, 0) + 1
    return rows


@dataclass(frozen=True, order=True)
class VisitKey:
    """Where one visit counts: local day, source, medium, campaign and landing page path."""

    day: date
    source: str
    medium: str
    campaign: str
    landing_page: str
