"""Demo website traffic: visitors, their visits and the pool-number leases those visits held."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from math import exp
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ringtrail.demo import catalog
from ringtrail.demo.catalog import Campaign, Channel
from ringtrail.demo.ids import bulk_insert, insert_with_ids, reserve_ids
from ringtrail.demo.patterns import VISIT_HOURS, WEEKDAY_TRAFFIC, growth, local_days, moment_on
from ringtrail.demo.setup import Frame, NumberRef
from ringtrail.storage.models import NumberLease, Visit, Visitor

BASE_VISITS_PER_DAY = 48
RETURNING_SHARE = 0.28
BOT_SHARE = 0.015
GRACE = timedelta(minutes=15)
COOLDOWN = timedelta(minutes=30)


@dataclass
class PlannedVisitor:
    """A browser the demo invents, with the traits that stay the same across its visits."""

    public_id: str
    device: tuple[str, str, str, int, str]
    city: tuple[str, str, str, int]
    ga_client_id: str
    ym_uid: str | None
    ip_hash: str
    id: int = 0
    visit_indexes: list[int] = field(default_factory=list)


@dataclass
class PlannedVisit:
    """One generated visit and what the site showed it."""

    started_at: datetime
    last_seen_at: datetime
    local_day: date
    channel: Channel
    campaign: Campaign
    keyword: str | None
    landing_path: str
    is_bot: bool
    visitor: PlannedVisitor | None = None
    id: int = 0
    number: NumberRef | None = None
    lease_id: int | None = None
    hold_until: datetime | None = None


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _lognormal_seconds(rng: random.Random, mu: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, round(exp(rng.gauss(mu, sigma)))))


def _new_visitor(rng: random.Random, started: datetime) -> PlannedVisitor:
    return PlannedVisitor(
        public_id=_hex(rng, 32),
        device=rng.choices(catalog.DEVICES, weights=[d[3] for d in catalog.DEVICES])[0],
        city=rng.choices(catalog.CITIES, weights=[c[3] for c in catalog.CITIES])[0],
        ga_client_id=f"{rng.randrange(10**8, 10**10)}.{int(started.timestamp())}",
        ym_uid=str(rng.randrange(10**18, 10**19)) if rng.random() < 0.3 else None,
        ip_hash=_hex(rng, 64),
    )


def _plan_one(rng: random.Random, day: date, zone: ZoneInfo) -> PlannedVisit:
    weekday = day.weekday()
    if rng.random() < BOT_SHARE:
        started = moment_on(rng, day, VISIT_HOURS, zone)
        direct = next(c for c in catalog.CHANNELS if c.key == "direct")
        path = rng.choice(direct.campaigns[0].landing_paths)
        return PlannedVisit(
            started, started + timedelta(seconds=2), day, direct, direct.campaigns[0], None,
            path, is_bot=True,
        )  # fmt: skip
    weights = [c.weight * c.weekday_boost.get(weekday, 1.0) for c in catalog.CHANNELS]
    channel = rng.choices(catalog.CHANNELS, weights=weights)[0]
    campaign = rng.choices(channel.campaigns, weights=[c.weight for c in channel.campaigns])[0]
    keyword = rng.choice(campaign.keywords) if campaign.keywords else None
    started = moment_on(rng, day, VISIT_HOURS, zone)
    seconds = _lognormal_seconds(rng, 4.6, 1.0, 5, 1800)
    return PlannedVisit(
        started, started + timedelta(seconds=seconds), day, channel, campaign, keyword,
        rng.choice(campaign.landing_paths), is_bot=False,
    )  # fmt: skip


def plan_visits(rng: random.Random, now: datetime, days: int, zone: ZoneInfo) -> list[PlannedVisit]:
    """Visits over the last `days` local days, oldest first, each with its visitor."""
    visits: list[PlannedVisit] = []
    calendar = local_days(now, days, zone)
    for index, day in enumerate(calendar):
        expected = BASE_VISITS_PER_DAY * WEEKDAY_TRAFFIC[day.weekday()] * growth(index, days)
        for _ in range(round(expected * rng.uniform(0.85, 1.15))):
            visit = _plan_one(rng, day, zone)
            if visit.last_seen_at < now:
                visits.append(visit)
    visits.sort(key=lambda v: v.started_at)
    known: list[PlannedVisitor] = []
    for index, visit in enumerate(visits):
        if known and not visit.is_bot and rng.random() < RETURNING_SHARE:
            visitor = rng.choice(known[-600:])
        else:
            visitor = _new_visitor(rng, visit.started_at)
            if not visit.is_bot:
                known.append(visitor)
        visitor.visit_indexes.append(index)
        visit.visitor = visitor
    return visits


def _pool_routed(visit: PlannedVisit) -> bool:
    return not visit.is_bot and visit.channel.rule != "gbp"


def assign_numbers(visits: list[PlannedVisit], frame: Frame) -> None:
    """Show each visit a number: a free pool number (least recently used), else the default.

    A number is held until the visit's last heartbeat plus the grace period, then cools down
    before anyone else gets it, so no two visitors ever hold one number at the same time.
    """
    free_at = {number.id: datetime.min.replace(tzinfo=UTC) for number in frame.pool_numbers}
    for visit in visits:
        if visit.is_bot:
            continue
        if not _pool_routed(visit):
            visit.number = frame.static_numbers["gbp"]
            continue
        free = [n for n in frame.pool_numbers if free_at[n.id] <= visit.started_at]
        if not free:
            visit.number = frame.pool_default
            continue
        number = min(free, key=lambda n: free_at[n.id])
        visit.number = number
        visit.hold_until = visit.last_seen_at + GRACE
        free_at[number.id] = visit.hold_until + COOLDOWN


def _landing_url(visit: PlannedVisit, click_value: str | None) -> str:
    params: dict[str, str] = {}
    channel = visit.channel
    if channel.utm:
        params = {"utm_source": channel.source, "utm_medium": channel.medium}
        if visit.campaign.name:
            params["utm_campaign"] = visit.campaign.name
        if visit.keyword:
            params["utm_term"] = visit.keyword
    if channel.click_id and click_value:
        params[channel.click_id] = click_value
    query = f"?{urlencode(params)}" if params else ""
    return f"https://{catalog.DOMAIN}{visit.landing_path}{query}"


def _trace(visit: PlannedVisit, frame: Frame, referrer: str) -> list[str]:
    channel = visit.channel
    if visit.is_bot:
        return ["user agent is a known crawler: marked as bot, no number shown"]
    first = {
        "gclid": "gclid present: google / cpc",
        "fbclid": "fbclid present: facebook / paid_social",
    }.get(channel.click_id or "")
    if first is None:
        first = (
            f"utm_source={channel.source}, utm_medium={channel.medium}"
            if channel.utm
            else f"referrer {referrer}: {channel.source} / {channel.medium}"
            if referrer
            else "no referrer and no campaign tags: (direct) / (none)"
        )
    rule = {
        "google_ads": "Google Ads", "meta_ads": "Meta ads", "gbp": "Google Business Profile",
        "organic": "Organic search", "other": "All other website traffic",
    }[channel.rule]  # fmt: skip
    shown = visit.number.e164 if visit.number else "-"
    if visit.number == frame.pool_default:
        return [first, f"rule {rule!r} matched", f"pool full: default number {shown} shown"]
    return [first, f"rule {rule!r} matched", f"number {shown} shown"]


def _visit_row(rng: random.Random, visit: PlannedVisit, frame: Frame) -> dict[str, Any]:
    visitor = visit.visitor
    assert visitor is not None
    channel = visit.channel
    kind, browser, os_name, _, agent = visitor.device
    country, region, city, _ = visitor.city
    click = None
    if channel.click_id == "gclid":
        click = "Cj0KCQjw" + _hex(rng, 40)
    elif channel.click_id == "fbclid":
        click = "IwAR" + _hex(rng, 48)
    millis = int(visit.started_at.timestamp() * 1000)
    meta = channel.key == "meta_ads"
    referrer = rng.choice(channel.referrers) if channel.referrers and not visit.is_bot else ""
    return {
        "id": visit.id,
        "project_id": frame.project_id,
        "visitor_id": visitor.id,
        "started_at": visit.started_at,
        "last_seen_at": visit.last_seen_at,
        "landing_url": _landing_url(visit, click),
        "landing_path": visit.landing_path,
        "referrer": referrer,
        "utm_source": channel.source if channel.utm else None,
        "utm_medium": channel.medium if channel.utm else None,
        "utm_campaign": (visit.campaign.name or None) if channel.utm else None,
        "utm_term": visit.keyword if channel.utm else None,
        "gclid": click if channel.click_id == "gclid" else None,
        "fbclid": click if channel.click_id == "fbclid" else None,
        "source": channel.source,
        "medium": channel.medium,
        "campaign": visit.campaign.name or None,
        "keyword": visit.keyword,
        "channel": "direct" if visit.is_bot else channel.channel,
        "source_rule_id": None if visit.is_bot else frame.rule_ids[channel.rule],
        "source_trace": _trace(visit, frame, referrer),
        "ga_client_id": None if visit.is_bot else visitor.ga_client_id,
        "ga_session_id": None if visit.is_bot else str(int(visit.started_at.timestamp())),
        "ym_uid": None if visit.is_bot else visitor.ym_uid,
        "fbp": f"fb.1.{millis}.{rng.randrange(10**9, 10**10)}" if meta else None,
        "fbc": f"fb.1.{millis}.{click}" if meta else None,
        "ip_hash": visitor.ip_hash,
        "user_agent": catalog.BOT_USER_AGENT if visit.is_bot else agent,
        "device_type": "bot" if visit.is_bot else kind,
        "browser": None if visit.is_bot else browser,
        "os": None if visit.is_bot else os_name,
        "is_bot": visit.is_bot,
        "geo_country": country,
        "geo_region": region,
        "geo_city": city,
        "extra": {"shown_number": visit.number.e164} if visit.number else {},
    }


def store_traffic(
    db: Session, rng: random.Random, visits: list[PlannedVisit], frame: Frame, now: datetime
) -> int:
    """Insert visitors, visits and leases in bulk; fills in the ids; returns visitors stored."""
    visitors: list[PlannedVisitor] = []
    seen: set[int] = set()
    for visit in visits:
        assert visit.visitor is not None
        if id(visit.visitor) not in seen:
            seen.add(id(visit.visitor))
            visitors.append(visit.visitor)
    for visitor, visitor_id in zip(visitors, reserve_ids(db, Visitor, len(visitors)), strict=True):
        visitor.id = visitor_id
    for visit, visit_id in zip(visits, reserve_ids(db, Visit, len(visits)), strict=True):
        visit.id = visit_id
    visitor_rows = [
        {
            "id": v.id,
            "project_id": frame.project_id,
            "public_id": v.public_id,
            "first_seen_at": visits[v.visit_indexes[0]].started_at,
            "last_seen_at": visits[v.visit_indexes[-1]].last_seen_at,
            "first_visit_id": visits[v.visit_indexes[0]].id,
        }
        for v in visitors
    ]
    bulk_insert(db, Visitor, visitor_rows)
    bulk_insert(db, Visit, [_visit_row(rng, visit, frame) for visit in visits])
    leased = [v for v in visits if v.hold_until is not None]
    lease_rows = []
    for visit in leased:
        assert visit.number is not None and visit.hold_until is not None
        live = visit.hold_until > now
        lease_rows.append(
            {
                "project_id": frame.project_id,
                "pool_id": frame.pool_id,
                "number_id": visit.number.id,
                "visitor_id": visit.visitor.id if visit.visitor else None,
                "visit_id": visit.id,
                "leased_at": visit.started_at,
                "last_heartbeat_at": visit.last_seen_at,
                "hold_until": visit.hold_until,
                "released_at": None if live else visit.hold_until,
                "cooldown_until": None if live else visit.hold_until + COOLDOWN,
                "snapshot": {
                    "visit_id": visit.id,
                    "source": visit.channel.source,
                    "medium": visit.channel.medium,
                    "campaign": visit.campaign.name or None,
                    "keyword": visit.keyword,
                    "landing_path": visit.landing_path,
                    "channel": visit.channel.channel,
                },
            }
        )
    for visit, lease_id in zip(leased, insert_with_ids(db, NumberLease, lease_rows), strict=True):
        visit.lease_id = lease_id
    return len(visitors)
