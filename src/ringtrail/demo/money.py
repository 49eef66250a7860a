"""Demo leads and money: call, form and callback leads, CRM deals, and daily ad costs."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from ringtrail.demo import catalog
from ringtrail.demo.callback_requests import store_callback_requests
from ringtrail.demo.calls import PlannedCall, PlannedDeal
from ringtrail.demo.ids import bulk_insert, insert_with_ids
from ringtrail.demo.phones import caller_number
from ringtrail.demo.setup import Frame
from ringtrail.demo.traffic import PlannedVisit
from ringtrail.storage.models import AdCost, Call, Deal, Lead

FORM_RATE = 0.012
CALLBACK_RATE = 0.005
CENT = Decimal("0.01")


@dataclass
class PlannedLead:
    """A form or callback request left on the site."""

    kind: str
    visit: PlannedVisit
    created_at: datetime
    name: str
    email: str | None
    phone: str
    deal: PlannedDeal | None = None


class DealBook:
    """Hands out CRM deal numbers and decides how each deal ends."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now, self.next_number = rng, now, 10_400

    def open_deal(self, started: datetime) -> PlannedDeal:
        """A deal begun at `started`: won, lost, or still open if it has not closed yet."""
        self.next_number += 1
        closes = started + timedelta(days=self.rng.randint(3, 45))
        if closes > self.now:
            return PlannedDeal(f"CRM-{self.next_number}", "open", 0, None)
        if self.rng.random() < 0.65:
            revenue = self.rng.randrange(25_000, 180_000, 500)
            return PlannedDeal(f"CRM-{self.next_number}", "won", revenue, closes)
        return PlannedDeal(f"CRM-{self.next_number}", "lost", 0, closes)


def plan_call_deals(book: DealBook, calls: list[PlannedCall]) -> None:
    """About one in five good first-time calls becomes a deal."""
    for call in calls:
        good = call.status == "answered" and call.talk_seconds >= 45 and not call.is_spam
        if good and call.is_first_time and call.is_target is not False and book.rng.random() < 0.22:
            call.deal = book.open_deal(call.started_at)


def plan_site_leads(book: DealBook, visits: list[PlannedVisit], now: datetime) -> list[PlannedLead]:
    """Forms and callback requests left during visits; a few turn into deals."""
    rng = book.rng
    leads: list[PlannedLead] = []
    for visit in visits:
        if visit.is_bot:
            continue
        roll = rng.random()
        if roll >= FORM_RATE + CALLBACK_RATE:
            continue
        created = visit.started_at + (visit.last_seen_at - visit.started_at) * 0.8
        if created >= now:
            continue
        first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
        kind = "form" if roll < FORM_RATE else "callback"
        email = f"{first}.{last}{rng.randrange(100)}@example.com".lower()
        lead = PlannedLead(
            kind, visit, created, f"{first} {last}", email if kind == "form" else None,
            caller_number(rng),
        )  # fmt: skip
        if rng.random() < 0.08:
            lead.deal = book.open_deal(created)
        leads.append(lead)
    return leads


def _lead_status(deal: PlannedDeal | None, is_target: bool | None) -> str:
    if deal is not None:
        return {"won": "won", "lost": "lost"}.get(deal.status, "in_progress")
    if is_target is False:
        return "junk"
    return "qualified" if is_target else "new"


def _call_lead(call: PlannedCall, project_id: int) -> dict[str, Any]:
    visit = call.visit
    return {
        "project_id": project_id,
        "kind": "call",
        "call_id": call.id,
        "visitor_id": visit.visitor.id if visit and visit.visitor else None,
        "visit_id": visit.id if visit else None,
        "phone_e164": call.caller,
        "email": None,
        "name": None,
        "source": call.source,
        "medium": call.medium,
        "campaign": call.campaign,
        "status": _lead_status(call.deal, call.is_target),
        "is_target": call.is_target,
        "payload": {"dialled": call.number.e164, "status": call.status},
        "created_at": call.started_at,
    }


def _site_lead(lead: PlannedLead, project_id: int) -> dict[str, Any]:
    visit = lead.visit
    return {
        "project_id": project_id,
        "kind": lead.kind,
        "call_id": None,
        "visitor_id": visit.visitor.id if visit.visitor else None,
        "visit_id": visit.id,
        "phone_e164": lead.phone,
        "email": lead.email,
        "name": lead.name,
        "source": visit.channel.source,
        "medium": visit.channel.medium,
        "campaign": visit.campaign.name or None,
        "status": _lead_status(lead.deal, None),
        "is_target": True if lead.deal else None,
        "payload": {
            "form": "contact" if lead.kind == "form" else "callback",
            "page": visit.landing_path,
        },
        "created_at": lead.created_at,
    }


def _deal_row(
    deal: PlannedDeal,
    project_id: int,
    call_id: int | None,
    lead_id: int,
    phone: str,
    opened_at: datetime,
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "external_id": deal.external_id,
        "call_id": call_id,
        "lead_id": lead_id,
        "phone_e164": phone,
        "status": deal.status,
        "revenue": Decimal(deal.revenue).quantize(CENT),
        "currency": catalog.CURRENCY,
        "closed_at": deal.closed_at,
        "created_at": opened_at,
    }


def _call_leads(calls: list[PlannedCall]) -> tuple[list[PlannedCall], dict[int, int]]:
    """Which calls open a lead, and the index (in that list) of every call's lead.

    As ingestion does it: a caller's first call, or a call outside the unique window, opens a
    lead; a repeat call inside the window joins the caller's latest lead.
    """
    openers: list[PlannedCall] = []
    lead_of: dict[int, int] = {}
    latest: dict[str, int] = {}
    for call in sorted(calls, key=lambda c: (c.started_at, c.id)):
        known = latest.get(call.caller)
        if call.is_unique or known is None:
            openers.append(call)
            known = latest[call.caller] = len(openers) - 1
        lead_of[call.id] = known
    return openers, lead_of


def store_leads_and_deals(
    db: Session, calls: list[PlannedCall], leads: list[PlannedLead], frame: Frame
) -> dict[str, int]:
    """Insert the call leads (one per caller within the unique window), the site leads, and
    the deals linked to them; every call points at its lead."""
    openers, lead_of = _call_leads(calls)
    rows = [_call_lead(call, frame.project_id) for call in openers]
    rows += [_site_lead(lead, frame.project_id) for lead in leads]
    lead_ids = insert_with_ids(db, Lead, rows)
    db.execute(
        update(Call),
        [{"id": call.id, "lead_id": lead_ids[lead_of[call.id]]} for call in calls],
    )
    deals = [
        _deal_row(
            call.deal, frame.project_id, call.id, lead_ids[lead_of[call.id]], call.caller,
            call.started_at,
        )
        for call in calls
        if call.deal is not None
    ]  # fmt: skip
    deals += [
        _deal_row(lead.deal, frame.project_id, None, lead_id, lead.phone, lead.created_at)
        for lead, lead_id in zip(leads, lead_ids[len(openers) :], strict=True)
        if lead.deal is not None
    ]
    bulk_insert(db, Deal, deals)
    store_callback_requests(
        db,
        [
            (frame.project_id, lead_id, lead.phone, lead.created_at)
            for lead, lead_id in zip(leads, lead_ids[len(openers) :], strict=True)
            if lead.kind == "callback"
        ],
    )
    return {"leads": len(rows), "deals": len(deals)}


def store_ad_costs(
    db: Session, rng: random.Random, visits: list[PlannedVisit], frame: Frame, zone: ZoneInfo
) -> int:
    """One cost row per day and paid campaign, sized from the clicks that reached the site."""
    sessions: Counter[tuple[date, str, str, str]] = Counter()
    cpc: dict[str, Decimal] = {}
    for visit in visits:
        if visit.channel.click_id is None or visit.is_bot:
            continue
        day = visit.started_at.astimezone(zone).date()
        sessions[(day, visit.channel.source, visit.channel.medium, visit.campaign.name)] += 1
        cpc[visit.campaign.name] = visit.campaign.cost_per_click
    rows = []
    for (day, source, medium, campaign), count in sorted(sessions.items()):
        clicks = round(count * rng.uniform(1.05, 1.25))
        reach = (18, 45) if medium == "cpc" else (60, 140)
        cost = (cpc[campaign] * clicks * Decimal(str(round(rng.uniform(0.85, 1.15), 3)))).quantize(
            CENT
        )
        rows.append(
            {
                "project_id": frame.project_id,
                "day": day,
                "source": source,
                "medium": medium,
                "campaign": campaign,
                "cost": cost,
                "currency": catalog.CURRENCY,
                "clicks": clicks,
                "impressions": clicks * rng.randint(*reach),
                "created_at": datetime.combine(day, datetime.min.time(), zone),
            }
        )
    bulk_insert(db, AdCost, rows)
    return len(rows)
