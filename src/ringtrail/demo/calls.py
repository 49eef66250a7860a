"""Demo calls: who called which number when, how it went, and how each call was attributed.

Attribution kinds used here (domain/attribution.py `AttributionKind`, as ingestion writes
them): `session` (a pool number held by one visitor), `static` (a number that always means
one source) and `unattributed` (nobody held the number, or the default number of the pool,
which serves several sources, was dialled).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import exp
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from ringtrail.demo import catalog
from ringtrail.demo.ids import bulk_insert, reserve_ids
from ringtrail.demo.patterns import (
    OFFLINE_CALL_HOURS,
    WEEKDAY_TRAFFIC,
    is_office_open,
    local_days,
    moment_on,
)
from ringtrail.demo.phones import caller_country, caller_number
from ringtrail.demo.setup import Frame, NumberRef
from ringtrail.demo.traffic import PlannedVisit
from ringtrail.domain.attribution import AttributionKind
from ringtrail.domain.callbacks import Resolution
from ringtrail.domain.phones import caller_geography
from ringtrail.storage.models import Call

REPEAT_CALL_RATE = 0.2
UNIQUE_WINDOW = timedelta(days=30)
SETTLE = timedelta(hours=1)


@dataclass
class PlannedDeal:
    """A CRM deal that came out of a call or a form lead."""

    external_id: str
    status: str
    revenue: int
    closed_at: datetime | None


@dataclass
class PlannedCall:
    """One generated call, from the dial to its outcome."""

    started_at: datetime
    number: NumberRef
    caller: str
    kind: AttributionKind
    reason: str
    confidence: float = 0.0
    visit: PlannedVisit | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    keyword: str | None = None
    landing_page: str | None = None
    topic: str = "buy"
    is_spam: bool = False
    status: str = "answered"
    ring_seconds: int = 0
    talk_seconds: int = 0
    is_first_time: bool = True
    is_unique: bool = True
    first_call: PlannedCall | None = None
    is_target: bool | None = None
    marked_at: datetime | None = None
    deal: PlannedDeal | None = None
    id: int = 0
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def answered_at(self) -> datetime | None:
        """When someone picked up, for answered calls."""
        if self.status != "answered":
            return None
        return self.started_at + timedelta(seconds=self.ring_seconds)

    @property
    def ended_at(self) -> datetime:
        """When the call ended."""
        return self.started_at + timedelta(seconds=self.ring_seconds + self.talk_seconds)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, count, product = exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _topic(text: str) -> str:
    lowered = text.lower()
    return "rent" if any(w in lowered for w in ("rent", "obolon", "osokorky")) else "buy"


def _web_call(rng: random.Random, visit: PlannedVisit, caller: str, frame: Frame) -> PlannedCall:
    assert visit.number is not None and visit.visitor is not None
    latest = (visit.hold_until or visit.last_seen_at + timedelta(minutes=5)) - timedelta(seconds=30)
    span = max((latest - visit.started_at).total_seconds(), 30.0)
    started = visit.started_at + timedelta(seconds=rng.uniform(15, span))
    channel = visit.channel
    topic = _topic(f"{visit.campaign.name} {visit.landing_path}")
    call = PlannedCall(started, visit.number, caller, AttributionKind.UNATTRIBUTED, "", topic=topic)
    if visit.number == frame.pool_default:
        call.reason = "the pool's default number was dialled (shown while every number was held)"
        return call
    if visit.lease_id is None:
        static = next(s for s in catalog.STATIC_NUMBERS if s.key == "gbp")
        call.kind, call.confidence = AttributionKind.STATIC, 1.0
        call.reason = f"static number {static.label!r}"
        call.source, call.medium, call.campaign = static.source, static.medium, static.campaign
        return call
    during = started <= visit.last_seen_at
    call.kind, call.confidence = AttributionKind.SESSION, 0.95 if during else 0.8
    call.reason = f"{visit.number.e164} was held by one visitor " + (
        "during the visit" if during else "in the grace period after the visit"
    )
    call.visit = visit
    call.source, call.medium = channel.source, channel.medium
    call.campaign, call.keyword = visit.campaign.name or None, visit.keyword
    call.landing_page = f"https://{catalog.DOMAIN}{visit.landing_path}"
    call.candidates = [
        {
            "visit_id": visit.id,
            "visitor_id": visit.visitor.id,
            "lease_id": visit.lease_id,
            "confidence": call.confidence,
            "reason": call.reason,
        }
    ]
    return call


def plan_web_calls(
    rng: random.Random, visits: list[PlannedVisit], frame: Frame, now: datetime, zone: ZoneInfo
) -> list[PlannedCall]:
    """Calls made from the website: visitors dialling the number they were shown.

    Fewer people call when the office is closed; they browse and call the next day instead.
    """
    calls: list[PlannedCall] = []
    caller_of: dict[int, str] = {}
    for visit in visits:
        if visit.is_bot or visit.number is None or visit.visitor is None:
            continue
        known = caller_of.get(id(visit.visitor))
        rate = REPEAT_CALL_RATE if known else visit.channel.call_rate
        if rng.random() >= rate:
            continue
        call = _web_call(rng, visit, known or caller_number(rng), frame)
        if not is_office_open(call.started_at.astimezone(zone)) and rng.random() < 0.5:
            continue
        if call.started_at < now - SETTLE:
            caller_of[id(visit.visitor)] = call.caller
            calls.append(call)
    return calls


def _active(key: str, index: int, days: int) -> bool:
    if key == "radio":  # two three-week flights
        return days * 0.1 <= index < days * 0.35 or days * 0.6 <= index < days * 0.85
    if key == "billboard":  # put up part-way through the period
        return index >= days * 0.4
    return True


def plan_static_calls(
    rng: random.Random, frame: Frame, now: datetime, days: int, zone: ZoneInfo
) -> list[PlannedCall]:
    """Calls to the profile, billboard and radio numbers, some from callers calling again."""
    calls: list[PlannedCall] = []
    for index, day in enumerate(local_days(now, days, zone)):
        for static in catalog.STATIC_NUMBERS:
            if not _active(static.key, index, days):
                continue
            mean = static.calls_per_day * WEEKDAY_TRAFFIC[day.weekday()]
            for _ in range(poisson(rng, mean)):
                started = moment_on(rng, day, OFFLINE_CALL_HOURS, zone)
                if started >= now - SETTLE:
                    continue
                earlier = [
                    c.caller for c in calls if c.number.id == frame.static_numbers[static.key].id
                ]
                spam = rng.random() < 0.06
                caller = (
                    rng.choice(earlier)
                    if earlier and not spam and rng.random() < REPEAT_CALL_RATE
                    else caller_number(rng)
                )
                calls.append(PlannedCall(
                    started, frame.static_numbers[static.key], caller, AttributionKind.STATIC,
                    f"static number {static.label!r}", confidence=1.0, source=static.source,
                    medium=static.medium, campaign=static.campaign, is_spam=spam,
                    topic=rng.choice(("buy", "buy", "rent")),
                ))  # fmt: skip
    return calls


def _held(visits: list[PlannedVisit], number: NumberRef, moment: datetime) -> bool:
    return any(
        v.number == number and v.hold_until is not None and v.started_at <= moment <= v.hold_until
        for v in visits
    )


def plan_stray_calls(
    rng: random.Random,
    visits: list[PlannedVisit],
    known: list[PlannedCall],
    frame: Frame,
    now: datetime,
    days: int,
    zone: ZoneInfo,
) -> list[PlannedCall]:
    """Calls to pool numbers nobody held at the time: remembered numbers, robocalls."""
    calls: list[PlannedCall] = []
    calendar = local_days(now, days, zone)
    for _ in range(max(3, round(days * 0.15))):
        number = rng.choice(frame.pool_numbers)
        started = moment_on(rng, rng.choice(calendar), OFFLINE_CALL_HOURS, zone)
        if started >= now - SETTLE or _held(visits, number, started):
            continue
        spam = rng.random() < 0.3
        earlier = [c.caller for c in known if c.started_at < started]
        caller = rng.choice(earlier) if earlier and not spam and rng.random() < 0.5 else None
        calls.append(PlannedCall(
            started, number, caller or caller_number(rng), AttributionKind.UNATTRIBUTED,
            f"nobody held {number.e164} when the call came in", is_spam=spam,
        ))  # fmt: skip
    return calls


def settle_outcomes(rng: random.Random, calls: list[PlannedCall], zone: ZoneInfo) -> None:
    """Sort the calls and decide how each went: answered, missed or busy; first-time or not."""
    calls.sort(key=lambda c: c.started_at)
    history: dict[str, list[PlannedCall]] = {}
    for call in calls:
        earlier = history.setdefault(call.caller, [])
        call.is_first_time = not earlier
        call.first_call = earlier[0] if earlier else None
        call.is_unique = not any(call.started_at - c.started_at < UNIQUE_WINDOW for c in earlier)
        earlier.append(call)
        roll = rng.random()
        if call.is_spam:
            answered = roll < 0.7
            busy = False
        elif is_office_open(call.started_at.astimezone(zone)):
            answered, busy = roll < 0.84, 0.84 <= roll < 0.89
        else:
            answered, busy = roll < 0.35, 0.35 <= roll < 0.4
        if answered:
            call.status = "answered"
            call.ring_seconds = rng.randint(4, 20)
            call.talk_seconds = (
                rng.randint(3, 20)
                if call.is_spam
                else max(8, min(1800, round(exp(rng.gauss(4.95, 0.8)))))
            )
        elif busy:
            call.status, call.ring_seconds = "busy", rng.randint(1, 3)
        else:
            call.status, call.ring_seconds = "missed", rng.randint(20, 45)


def _snapshot(call: PlannedCall) -> dict[str, Any]:
    """What attribution copied from the visit, with the visitor's geography as ingestion adds it."""
    visit = call.visit
    snapshot: dict[str, Any] = {
        "source": call.source,
        "medium": call.medium,
        "campaign": call.campaign,
        "keyword": call.keyword,
        "visit_id": visit.id if visit else None,
    }
    if visit is not None and visit.visitor is not None:
        country, region, city, _ = visit.visitor.city
        snapshot["visitor_geo"] = {"country": country, "region": region, "city": city}
    return snapshot


def _call_row(
    call: PlannedCall, index: int, seed: int, frame: Frame, now: datetime
) -> dict[str, Any]:
    visit = call.visit
    needs_callback = (
        call.status != "answered" and not call.is_spam and now - call.ended_at < timedelta(days=2)
    )
    return {
        "id": call.id,
        "project_id": frame.project_id,
        "tracking_number_id": call.number.id,
        "provider": "demo",
        "provider_call_id": f"demo-{seed}-{index:05d}",
        "direction": "inbound",
        "caller_e164": call.caller,
        "dialled_e164": call.number.e164,
        "forwarded_to": catalog.OFFICE_NUMBER,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.ring_seconds + call.talk_seconds,
        "talk_seconds": call.talk_seconds,
        "status": call.status,
        "is_first_time": call.is_first_time,
        "is_unique": call.is_unique,
        "is_target": call.is_target,
        "target_set_by": "user" if call.marked_at else None,
        "needs_callback": needs_callback,
        "visitor_id": visit.visitor.id if visit and visit.visitor else None,
        "visit_id": visit.id if visit else None,
        "first_call_id": call.first_call.id if call.first_call else None,
        "attribution_kind": call.kind.value,
        "attribution_reason": call.reason,
        "confidence": call.confidence,
        "candidates": call.candidates,
        "source": call.source,
        "medium": call.medium,
        "campaign": call.campaign,
        "keyword": call.keyword,
        "landing_page": call.landing_page,
        "snapshot": _snapshot(call),
        "caller_country": caller_country(call.caller),
        "caller_region": caller_geography(call.caller)[1],
        "deal_value": float(call.deal.revenue) if call.deal and call.deal.status == "won" else None,
        "created_at": call.ended_at,
    }


def store_calls(
    db: Session, calls: list[PlannedCall], seed: int, frame: Frame, now: datetime
) -> None:
    """Insert the calls in bulk, repeat calls linked to the caller's first call."""
    for call, call_id in zip(calls, reserve_ids(db, Call, len(calls)), strict=True):
        call.id = call_id
    rows = [_call_row(call, index, seed, frame, now) for index, call in enumerate(calls)]
    links = _settle_callbacks(calls, rows)
    bulk_insert(db, Call, rows)
    if links:  # after the insert: the settling call is a later row
        table = cast(Table, Call.__table__)
        settle = (
            update(table)
            .where(table.c.id == bindparam("p_call"))
            .values(callback_call_id=bindparam("p_by"))
        )
        db.connection().execute(settle, links)


def _settle_callbacks(calls: list[PlannedCall], rows: list[dict[str, Any]]) -> list[dict[str, int]]:
    """How the missed calls were dealt with (domain/callbacks.py): the caller's next answered
    call settles one; the office rang back the older rest within minutes to hours; the last
    two days' still wait. Returns the links to the settling calls, to set once stored."""
    links: list[dict[str, int]] = []
    answered: dict[str, list[PlannedCall]] = {}
    for call in sorted(calls, key=lambda c: c.started_at):
        if call.status == "answered":
            answered.setdefault(call.caller, []).append(call)
    for index, (call, row) in enumerate(zip(calls, rows, strict=True)):
        row |= {
            "callback_at": None,
            "callback_resolution": None,
            "callback_user_id": None,
            "callback_call_id": None,
        }
        if call.status == "answered" or call.is_spam:
            continue
        later = next(
            (c for c in answered.get(call.caller, []) if c.started_at > call.started_at), None
        )
        if later is not None:
            row |= {
                "needs_callback": False,
                "callback_at": later.started_at,
                "callback_resolution": Resolution.ANSWERED_CALL.value,
            }
            links.append({"p_call": call.id, "p_by": later.id})
        elif not row["needs_callback"]:
            delay = timedelta(minutes=5 + (index * 37) % 235)
            row |= {
                "callback_at": call.ended_at + delay,
                "callback_resolution": Resolution.CALLED_BACK.value,
            }
    return links
