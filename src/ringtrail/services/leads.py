"""Leads that are not calls: form posts and callback requests, recorded like calls.

`record_lead` is the one way a `form` or `callback` lead is written. It

- reads the visitor from the tracking script's signed visitor token (services.visit_tokens)
  and takes the source, medium and campaign of the visitor's latest visit: the label the
  visit pipeline chose for it (rules, first or last touch), so a lead is credited exactly as
  a call from that visit would be;
- writes the phone as E.164 in the project's default country (domain.phones);
- deduplicates: the same `dedupe_key` (a double submit, a retried request), or the same kind
  and phone (else e-mail, else visitor and fields) within `DUPLICATE_WINDOW` (the back
  button) is the existing lead, `created=False`;
- joins a person: a lead from a phone that left another lead (a call, a form, a callback)
  within the project's unique-call window gets that lead's person (`Lead.person_id`, the
  first lead of the person). Calls do the same when they open a lead
  (`link_call_leads`, called by call ingestion), so a call after a form joins it too;
- marks the day stale for the report rollups.

Calls open their leads in call ingestion, not here. The caller commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringtrail.domain.form_fields import MAX_FIELDS, MAX_NAME_LENGTH, MAX_VALUE_LENGTH, is_email
from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.services.deliveries.enqueue import note_lead_created
from ringtrail.services.errors import InvalidInput
from ringtrail.services.reports.rollups import mark_calls_changed
from ringtrail.services.visit_tokens import BadToken, TokenSigner
from ringtrail.storage.models import Lead, Project, Visit, Visitor

LEAD_KINDS = ("call", "form", "callback")
"""Every kind of lead; `record_lead` writes the last two."""
RECORDED_KINDS = ("form", "callback")
DUPLICATE_WINDOW = timedelta(minutes=10)
"""A second lead of the same kind and contact within this time is the first one again."""
MAX_DEDUPE_KEY = 100


@dataclass(frozen=True)
class LeadOutcome:
    """The lead, and whether this call created it (False: a duplicate of an existing one)."""

    lead: Lead
    created: bool


@dataclass(frozen=True)
class VisitorVisit:
    """Whom a visitor token names in a project, and their latest visit (if any)."""

    visitor_id: int
    visit: Visit | None


def resolve_visitor(
    session: Session, project: Project, visitor_token: str | None, signer: TokenSigner
) -> VisitorVisit | None:
    """The visitor of `project` the token names and their latest visit; None when the token
    is missing, forged, or names no visitor of this project."""
    if not visitor_token:
        return None
    try:
        public_id = signer.read_visitor_token(visitor_token.strip())
    except BadToken:
        return None
    visitor_id = session.scalar(
        select(Visitor.id).where(Visitor.project_id == project.id, Visitor.public_id == public_id)
    )
    if visitor_id is None:
        return None
    visit = session.scalars(
        select(Visit)
        .where(Visit.visitor_id == visitor_id)
        .order_by(Visit.started_at.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    return VisitorVisit(visitor_id, visit)


def normalise_phone(project: Project, phone: str | None) -> str | None:
    """`phone` as E.164 read in the project's default country; InvalidInput when it is not
    a valid number; None when there is none."""
    if phone is None or not phone.strip():
        return None
    try:
        return to_e164(phone[:64], project.default_country)
    except InvalidPhoneNumber as exc:
        raise InvalidInput("phone", str(exc)) from exc


def record_lead(
    session: Session,
    project: Project,
    *,
    kind: str,
    visitor_token: str | None,
    phone: str | None,
    email: str | None = None,
    name: str | None = None,
    fields: dict[str, str] | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    signer: TokenSigner | None = None,
    payload: Mapping[str, Any] | None = None,
) -> LeadOutcome:
    """Record a `form` or `callback` lead of `project` (see the module's docstring).

    `signer` reads `visitor_token` (required when a token is given: build it with the
    instance secret, `TokenSigner(settings.resolved_secret_key())`). `payload` adds keys of
    the caller's own to `Lead.payload` (e.g. the page a form was on). InvalidInput names a
    kind, phone or e-mail that cannot be kept, or a lead with no way to reach the person.
    """
    if kind not in RECORDED_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(RECORDED_KINDS)}")
    if visitor_token and signer is None:
        raise TypeError("record_lead needs a signer to read a visitor token")
    now = now or datetime.now(UTC)
    phone_e164 = normalise_phone(project, phone)
    email = _email(email)
    name = (name or "").strip()[:200] or None
    kept = _fields(fields or {})
    key = f"{kind}:{dedupe_key.strip()}"[:MAX_DEDUPE_KEY] if dedupe_key else None
    if key is not None:
        existing = _by_key(session, project, key)
        if existing is not None:
            return LeadOutcome(existing, False)
    who = resolve_visitor(session, project, visitor_token, signer) if signer else None
    visitor_id = who.visitor_id if who else None
    fingerprint = _fingerprint(phone_e164, email, name, kept)
    duplicate = _recent_duplicate(
        session, project, kind, phone_e164, email, visitor_id, fingerprint, now
    )
    if duplicate is not None:
        return LeadOutcome(duplicate, False)
    visit = who.visit if who else None
    body: dict[str, Any] = {**(payload or {}), "fields": kept, "fingerprint": fingerprint}
    person = _person_of(session, project, phone_e164, now)
    lead = Lead(
        project_id=project.id,
        kind=kind,
        visitor_id=visitor_id,
        visit_id=visit.id if visit else None,
        phone_e164=phone_e164,
        email=email,
        name=name,
        source=visit.source if visit else None,
        medium=visit.medium if visit else None,
        campaign=visit.campaign if visit else None,
        status="new",
        payload=body,
        dedupe_key=key,
        person_id=person,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(lead)
            session.flush()
    except IntegrityError:
        # A concurrent post with the same key won the unique index: that lead is this one.
        existing = _by_key(session, project, key) if key else None
        if existing is None:
            raise
        return LeadOutcome(existing, False)
    mark_calls_changed(session, project.id, [now])
    note_lead_created(session, lead, now)
    return LeadOutcome(lead, True)


def person_key(lead: Lead) -> int:
    """The id that names the lead's person: the first lead of the person."""
    return lead.person_id or lead.id


def link_call_leads(connection: Connection | Session, leads: Sequence[Mapping[str, Any]]) -> None:
    """Join newly opened call leads to the person of an earlier lead from the same phone.

    Each item has `id`, `project_id`, `phone_e164`, `created_at` and `window` (the project's
    unique-call window). Earlier calls from that phone share the call's lead already, so the
    earlier lead found is a form or a callback (or a call from before the window, which is
    not joined).
    """
    for item in leads:
        if not item.get("phone_e164"):
            continue
        earlier = _latest_with_phone(
            connection,
            item["project_id"],
            item["phone_e164"],
            item["created_at"] - item["window"],
            item["created_at"],
            exclude=item["id"],
        )
        if earlier is not None:
            connection.execute(update(Lead).where(Lead.id == item["id"]).values(person_id=earlier))


# -- helpers -------------------------------------------------------------------------------


def _email(email: str | None) -> str | None:
    text = (email or "").strip().lower()
    if not text:
        return None
    if len(text) > 254 or not is_email(text):
        raise InvalidInput("email", "not an e-mail address")
    return text


def _fields(fields: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(fields.items())[:MAX_FIELDS]:
        text = str(value).strip()[:MAX_VALUE_LENGTH]
        if text:
            kept[str(name)[:MAX_NAME_LENGTH]] = text
    return kept


def _fingerprint(
    phone: str | None, email: str | None, name: str | None, fields: Mapping[str, str]
) -> str:
    text = json.dumps([phone, email, name, sorted(fields.items())], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _by_key(session: Session, project: Project, key: str) -> Lead | None:
    return session.scalars(
        select(Lead).where(Lead.project_id == project.id, Lead.dedupe_key == key)
    ).first()


def _recent_duplicate(
    session: Session,
    project: Project,
    kind: str,
    phone: str | None,
    email: str | None,
    visitor_id: int | None,
    fingerprint: str,
    now: datetime,
) -> Lead | None:
    """The lead this one repeats: same kind and phone, else e-mail, else the same visitor
    with the same fields, within DUPLICATE_WINDOW."""
    recent = and_(
        Lead.project_id == project.id,
        Lead.kind == kind,
        Lead.created_at >= now - DUPLICATE_WINDOW,
        Lead.created_at <= now,
    )
    if phone is not None:
        same = Lead.phone_e164 == phone
    elif email is not None:
        same = Lead.email == email
    elif visitor_id is not None:
        same = Lead.visitor_id == visitor_id
    else:
        return None
    candidates = session.scalars(
        select(Lead).where(recent, same).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(20)
    ).all()
    for lead in candidates:
        if phone is not None or email is not None:
            return lead
        if (lead.payload or {}).get("fingerprint") == fingerprint:
            return lead
    return None


def _person_of(session: Session, project: Project, phone: str | None, now: datetime) -> int | None:
    if phone is None:
        return None
    since = now - timedelta(days=project.unique_call_window_days)
    return _latest_with_phone(session, project.id, phone, since, now, exclude=None)


def _latest_with_phone(
    db: Connection | Session,
    project_id: int,
    phone: str,
    since: datetime,
    until: datetime,
    *,
    exclude: int | None,
) -> int | None:
    """The person (first lead) of the latest lead from `phone` in `since`..`until`, or None."""
    query = (
        select(func.coalesce(Lead.person_id, Lead.id))
        .where(
            Lead.project_id == project_id,
            Lead.phone_e164 == phone,
            Lead.created_at >= since,
            Lead.created_at <= until,
        )
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(1)
    )
    if exclude is not None:
        query = query.where(Lead.id != exclude)
    value = db.execute(query).scalar()
    return int(value) if value is not None else None
