"""Reads the facts a delivery is made of: the call or lead, its visit, its project, its tags,
its deal value, a signed recording link, consent, and what the destination answered before.

Facts are read at send time, for a whole batch of deliveries in a few queries (the worker
sends hundreds a second), so a call marked target after it was queued is sent as target.
The result is plain `ConversionFacts`; nothing here sends or decides.

Consent comes from the visit's `extra["consent"]` when the tracking tag recorded it (a map
like `{"ad_storage": "granted"}`; `true`/`"granted"` count as given). Deal value: the sum of
the call's or lead's won deals, else the call's own `deal_value`. The recording link is made
only when the instance has a public URL (a CRM cannot follow a relative link).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.integrations.base import ConversionFacts, VisitFacts
from ringtrail.recordings.export_links import recording_tokens
from ringtrail.services.crm_deals import one_lead_facts
from ringtrail.storage.models import (
    Call,
    CallTag,
    Deal,
    Lead,
    OutboundDelivery,
    Project,
    Recording,
    Tag,
    Visit,
)

WON = "won"
_GIVEN = {True, "granted", "GRANTED", "yes", "true", "1"}


@dataclass(frozen=True)
class Subject:
    """The delivery a batch needs facts for."""

    delivery_id: int
    destination_id: int | None
    subject_kind: str
    subject_id: int


@dataclass(frozen=True)
class LinkSettings:
    """How recording links are made: the instance's secret, public URL and link lifetime."""

    secret: str
    public_url: str
    ttl_seconds: int


def consent_of(extra: Mapping[str, Any] | None) -> dict[str, bool]:
    """The consent a visit recorded, as {kind: given}."""
    raw = (extra or {}).get("consent")
    if not isinstance(raw, Mapping):
        return {}
    return {str(key): value in _GIVEN for key, value in raw.items()}


def visit_facts(visit: Visit) -> VisitFacts:
    """The ids and source of a visit, as destinations read them."""
    utm = {
        name: value
        for name, value in (
            ("utm_source", visit.utm_source),
            ("utm_medium", visit.utm_medium),
            ("utm_campaign", visit.utm_campaign),
            ("utm_term", visit.utm_term),
            ("utm_content", visit.utm_content),
        )
        if value
    }
    return VisitFacts(
        started_at=visit.started_at,
        landing_url=visit.landing_url or "",
        referrer=visit.referrer or "",
        source=visit.source,
        medium=visit.medium,
        campaign=visit.campaign,
        keyword=visit.keyword,
        utm=utm,
        gclid=visit.gclid,
        gbraid=visit.gbraid,
        wbraid=visit.wbraid,
        yclid=visit.yclid,
        fbclid=visit.fbclid,
        ga_client_id=visit.ga_client_id,
        ga_session_id=visit.ga_session_id,
        ym_uid=visit.ym_uid,
        fbp=visit.fbp,
        fbc=visit.fbc,
        user_agent=visit.user_agent or "",
    )


_CALL_COLUMNS = (
    "id",
    "project_id",
    "provider_call_id",
    "caller_e164",
    "dialled_e164",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "talk_seconds",
    "status",
    "is_first_time",
    "is_target",
    "visit_id",
    "lead_id",
    "source",
    "medium",
    "campaign",
    "landing_page",
    "deal_value",
)
"""What facts read of a call: plain rows, not ORM objects (hundreds are read per pass)."""


def _by_id(db: Session, model: Any, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if model is Call:
        table = Call.__table__
        query = select(*(table.c[name] for name in _CALL_COLUMNS))
        return {row.id: row for row in db.execute(query.where(Call.id.in_(wanted)))}
    return {row.id: row for row in db.scalars(select(model).where(model.id.in_(wanted)))}


def _tags(db: Session, call_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not call_ids:
        return out
    rows = db.execute(
        select(CallTag.call_id, Tag.name)
        .join(Tag, Tag.id == CallTag.tag_id)
        .where(CallTag.call_id.in_(call_ids))
        .order_by(CallTag.call_id, Tag.name)
    )
    for call_id, name in rows:
        out.setdefault(call_id, []).append(name)
    return out


def _won_deals(
    db: Session, call_ids: Sequence[int], lead_ids: Sequence[int]
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    by_call: dict[int, Decimal] = {}
    by_lead: dict[int, Decimal] = {}
    if not call_ids and not lead_ids:
        return by_call, by_lead
    rows = db.execute(
        select(Deal.call_id, Deal.lead_id, Deal.revenue).where(
            Deal.status == WON,
            (Deal.call_id.in_(call_ids or [-1])) | (Deal.lead_id.in_(lead_ids or [-1])),
        )
    )
    for call_id, lead_id, revenue in rows:
        amount = Decimal(revenue or 0)
        if call_id is not None:
            by_call[call_id] = by_call.get(call_id, Decimal(0)) + amount
        if lead_id is not None:
            by_lead[lead_id] = by_lead.get(lead_id, Decimal(0)) + amount
    return by_call, by_lead


def _transcripts(db: Session, call_ids: Sequence[int]) -> dict[int, str]:
    if not call_ids:
        return {}
    rows = db.execute(
        select(Recording.call_id, Recording.transcript)
        .where(Recording.call_id.in_(call_ids), Recording.transcript.is_not(None))
        .order_by(Recording.call_id, Recording.id)
    )
    return {call_id: text for call_id, text in rows if text}


def previous_answers(
    db: Session, subjects: Sequence[Subject]
) -> dict[tuple[int, str, int], list[OutboundDelivery]]:
    """The accepted deliveries of each (destination, subject kind, subject id), oldest first."""
    keys = {
        (s.destination_id, s.subject_kind, s.subject_id)
        for s in subjects
        if s.destination_id is not None
    }
    out: dict[tuple[int, str, int], list[OutboundDelivery]] = {}
    if not keys:
        return out
    subject_ids = sorted({key[2] for key in keys})
    destinations = sorted({str(key[0]) for key in keys})
    rows = db.scalars(
        select(OutboundDelivery)
        .where(
            # The unique key's columns, in its order: its index finds them.
            OutboundDelivery.destination.in_(destinations),
            OutboundDelivery.subject_kind.in_(sorted({key[1] for key in keys})),
            OutboundDelivery.subject_id.in_(subject_ids),
            OutboundDelivery.status == "accepted",
        )
        .order_by(OutboundDelivery.sequence, OutboundDelivery.id)
    )
    for row in rows:
        if row.destination_id is None:
            continue
        key = (row.destination_id, row.subject_kind, row.subject_id)
        if key in keys:
            out.setdefault(key, []).append(row)
    return out


def load_facts(
    db: Session,
    subjects: Sequence[Subject],
    links: LinkSettings | None,
    now: datetime,
    *,
    answers: Mapping[tuple[int, str, int], list[OutboundDelivery]] | None = None,
) -> dict[int, ConversionFacts]:
    """Facts per delivery id; a delivery whose call or lead is gone is left out.

    `answers` is `previous_answers(db, subjects)` when the caller has it already."""
    leads = _by_id(db, Lead, [s.subject_id for s in subjects if s.subject_kind == "lead"])
    calls = _by_id(
        db,
        Call,
        [s.subject_id for s in subjects if s.subject_kind == "call"]
        + [lead.call_id for lead in leads.values() if lead.call_id is not None],
    )
    visits = _by_id(
        db,
        Visit,
        [c.visit_id for c in calls.values() if c.visit_id is not None]
        + [lead.visit_id for lead in leads.values() if lead.visit_id is not None],
    )
    projects = _by_id(
        db,
        Project,
        [c.project_id for c in calls.values() if c.project_id is not None]
        + [lead.project_id for lead in leads.values()],
    )
    call_ids = sorted(calls)
    tags = _tags(db, call_ids)
    call_deals, lead_deals = _won_deals(db, call_ids, sorted(leads))
    transcripts = _transcripts(db, call_ids)
    tokens = (
        recording_tokens(db, call_ids, links.secret, links.ttl_seconds, now)
        if links is not None and links.public_url
        else {}
    )
    if answers is None:
        answers = previous_answers(db, subjects)
    # lead.created must not open a second lead for a person with an open lead or deal.
    open_contacts = one_lead_facts(db, sorted(leads)) if leads else {}
    base: dict[tuple[str, int], ConversionFacts] = {}
    out: dict[int, ConversionFacts] = {}
    for subject in subjects:
        key = (subject.subject_kind, subject.subject_id)
        if key not in base:
            built = _build(
                subject,
                calls,
                leads,
                visits,
                projects,
                tags,
                call_deals,
                lead_deals,
                transcripts,
                tokens,
                links,
            )
            if built is None:
                continue
            base[key] = built
        facts = base[key]
        earlier = answers.get(
            (subject.destination_id or 0, subject.subject_kind, subject.subject_id), []
        )
        out[subject.delivery_id] = replace(
            facts,
            extra={
                **facts.extra,
                **(open_contacts.get(subject.subject_id, {}) if key[0] == "lead" else {}),
                "previous_responses": {row.event_name: dict(row.response) for row in earlier},
            },
        )
    return out


def _build(
    subject: Subject,
    calls: Mapping[int, Call],
    leads: Mapping[int, Lead],
    visits: Mapping[int, Visit],
    projects: Mapping[int, Project],
    tags: Mapping[int, list[str]],
    call_deals: Mapping[int, Decimal],
    lead_deals: Mapping[int, Decimal],
    transcripts: Mapping[int, str],
    tokens: Mapping[int, str],
    links: LinkSettings | None,
) -> ConversionFacts | None:
    lead: Lead | None = None
    call: Call | None
    if subject.subject_kind == "lead":
        lead = leads.get(subject.subject_id)
        if lead is None:
            return None
        call = calls.get(lead.call_id) if lead.call_id is not None else None
    else:
        call = calls.get(subject.subject_id)
        if call is None:
            return None
    project_id = lead.project_id if lead is not None else call.project_id if call else None
    project = projects.get(project_id) if project_id is not None else None
    if project is None:
        return None
    visit_id = (lead.visit_id if lead is not None else None) or (call.visit_id if call else None)
    visit = visits.get(visit_id) if visit_id is not None else None
    deal: Decimal | None = None
    if lead is not None and lead.id in lead_deals:
        deal = lead_deals[lead.id]
    elif call is not None and call.id in call_deals:
        deal = call_deals[call.id]
    elif call is not None and call.deal_value is not None:
        deal = Decimal(str(call.deal_value))
    recording_url = None
    if call is not None and call.id in tokens and links is not None:
        recording_url = f"{links.public_url.rstrip('/')}/recordings/{tokens[call.id]}"
    common: dict[str, Any] = {
        "project_id": project.id,
        "project_time_zone": project.timezone or "UTC",
        "currency": project.currency,
        "default_country": project.default_country,
        "deal_value": deal,
        "visit": visit_facts(visit) if visit is not None else None,
        "consent": consent_of(visit.extra) if visit is not None else {},
        "recording_url": recording_url,
    }
    extra: dict[str, Any] = {}
    if visit is not None:
        # Meta matches people on a stable id of ours (hashed by the destination); GA4 picks the
        # session id of its own stream among the visit's.
        extra["external_id"] = f"ringtrail-visitor-{visit.visitor_id}"
        session_ids = (visit.extra or {}).get("ga_session_ids")
        if isinstance(session_ids, dict) and session_ids:
            extra["ga_session_ids"] = dict(session_ids)
    if call is not None:
        common.update(
            answered=call.answered_at is not None or call.status in ("answered", "completed"),
            talk_seconds=call.talk_seconds,
            duration_seconds=call.duration_seconds,
            status=call.status,
            is_first_time=call.is_first_time,
            tags=tuple(tags.get(call.id, ())),
            transcript=transcripts.get(call.id),
            landing_page=call.landing_page,
        )
    if lead is not None:
        return ConversionFacts(
            subject_kind="lead",
            subject_id=lead.id,
            occurred_at=lead.created_at,
            phone_e164=lead.phone_e164,
            email=lead.email,
            name=lead.name,
            is_target=lead.is_target,
            source=lead.source,
            medium=lead.medium,
            campaign=lead.campaign,
            lead_kind=lead.kind,
            extra={**extra, "lead_status": lead.status, "call_id": lead.call_id},
            **common,
        )
    assert call is not None
    return ConversionFacts(
        subject_kind="call",
        subject_id=call.id,
        occurred_at=call.started_at,
        phone_e164=call.caller_e164,
        is_target=call.is_target,
        source=call.source,
        medium=call.medium,
        campaign=call.campaign,
        lead_kind="call",
        extra={
            **extra,
            "lead_id": call.lead_id,
            "tracking_number": call.dialled_e164,
            "provider_call_id": call.provider_call_id,
            "ended_at": call.ended_at,
        },
        **common,
    )
