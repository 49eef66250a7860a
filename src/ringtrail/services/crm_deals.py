"""CRM deals in from Bitrix24, and the open lead or deal that keeps a person to one lead.

Bitrix24 says only that a deal was added or changed (web/hooks/bitrix24.py); its stage,
amount, currency and close date are read with `crm.deal.get`. The deal becomes Ringtrail's
deal `bitrix24:<id>` through the same upsert as a CSV import (services/money/deals.py), so it
is linked to its call, writes the call's deal value and marks the days it counts on stale:
the profit report (ROMI) then uses the CRM's revenue. Which call: the `ORIGIN_ID` Ringtrail
wrote on the deal (or on the lead it was converted from, `LEAD_ID`), else the phone of that
lead or of the deal's contact. A deal that names nothing Ringtrail knows is left out, with
the reason.

Stage semantics: `STAGE_SEMANTIC_ID` S is won, F lost, anything else open (custom pipelines
name their stages freely, so the stage name is not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from ringtrail.domain.one_lead_per_person import (
    EXTRA_KEY,
    OPEN_DEAL_STATUS,
    OPEN_LEAD_STATUSES,
    OpenContact,
)
from ringtrail.integrations.bitrix24 import DESTINATION as BITRIX24
from ringtrail.integrations.bitrix24 import ORIGINATOR, Bitrix24Config
from ringtrail.integrations.bitrix24_api import Bitrix24Api, TokenStore
from ringtrail.services.money.deals import DealImport, DealRow, DealStatus, upsert_deals
from ringtrail.storage.models import Call, Deal, IntegrationDestination, Lead, Project

EXTERNAL_PREFIX = "bitrix24:"
DEAL_EVENTS = frozenset({"ONCRMDEALADD", "ONCRMDEALUPDATE"})
SEMANTICS = {"S": DealStatus.WON, "F": DealStatus.LOST}


# -- one lead per person --------------------------------------------------------------------


def open_contact_of(db: Session, lead: Lead) -> OpenContact | None:
    """The person's other lead still being worked, else their open deal (None: neither).

    The person is the lead's first lead (`person_id`); their earlier leads count, and deals
    linked to any of their leads or their calls, or to the lead's phone.
    """
    person = lead.person_id or lead.id
    same_person = func.coalesce(Lead.person_id, Lead.id) == person
    other = db.scalars(
        select(Lead.id)
        .where(
            Lead.project_id == lead.project_id,
            same_person,
            Lead.id != lead.id,
            Lead.created_at <= lead.created_at,
            Lead.status.in_(sorted(OPEN_LEAD_STATUSES)),
        )
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(1)
    ).first()
    if other is not None:
        return OpenContact("lead", int(other))
    leads = select(Lead.id).where(Lead.project_id == lead.project_id, same_person)
    calls = select(Lead.call_id).where(
        Lead.project_id == lead.project_id, same_person, Lead.call_id.is_not(None)
    )
    linked: list[ColumnElement[bool]] = [Deal.lead_id.in_(leads), Deal.call_id.in_(calls)]
    if lead.phone_e164:
        linked.append(Deal.phone_e164 == lead.phone_e164)
    deal = db.scalars(
        select(Deal.id)
        .where(Deal.project_id == lead.project_id, Deal.status == OPEN_DEAL_STATUS, or_(*linked))
        .order_by(Deal.id.desc())
        .limit(1)
    ).first()
    return OpenContact("deal", int(deal)) if deal is not None else None


def one_lead_facts(db: Session, lead_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What to add to `facts.extra` of `lead.created` deliveries, by lead id: the open lead or
    deal under `open_contact` (domain/one_lead_per_person.py), for leads that have one."""
    found: dict[int, dict[str, Any]] = {}
    for lead in db.scalars(select(Lead).where(Lead.id.in_(sorted(set(lead_ids))))):
        contact = open_contact_of(db, lead)
        if contact is not None:
            found[lead.id] = {EXTRA_KEY: contact.as_extra()}
    return found


# -- Bitrix24 deals in ----------------------------------------------------------------------


@dataclass(frozen=True)
class DealSync:
    """What one deal event did: the deal's Ringtrail id and import result, or why nothing."""

    external_id: str
    imported: DealImport | None = None
    ignored: str | None = None


def _decimal(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw or "0"))
    except InvalidOperation:
        raise ValueError(f"the deal's amount {raw!r} is not a number") from None
    return value if value.is_finite() else Decimal(0)


def _moment(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        return None


def _first_phone(item: Mapping[str, Any]) -> str | None:
    for entry in item.get("PHONE") or ():
        if isinstance(entry, Mapping) and entry.get("VALUE"):
            return str(entry["VALUE"])
    return None


def _origin(item: Mapping[str, Any]) -> tuple[str, int] | None:
    """The Ringtrail call or lead an entity names (`ORIGIN_ID` "call:41" / "lead:9")."""
    if item.get("ORIGINATOR_ID") != ORIGINATOR:
        return None
    kind, _, ident = str(item.get("ORIGIN_ID") or "").partition(":")
    if kind in ("call", "lead") and ident.isdigit():
        return kind, int(ident)
    return None


def _link(
    db: Session, project: Project, api: Bitrix24Api, deal: Mapping[str, Any]
) -> tuple[int | None, str | None]:
    """The call id (else the phone) the deal belongs to."""
    sources: list[Mapping[str, Any]] = [deal]
    if str(deal.get("LEAD_ID") or "0") not in ("", "0"):
        sources.append(api.call("crm.lead.get", {"id": int(deal["LEAD_ID"])}) or {})
    for item in sources:
        origin = _origin(item)
        if origin is None:
            continue
        kind, ident = origin
        if kind == "call":
            call = db.get(Call, ident)
            if call is not None and call.project_id == project.id:
                return call.id, None
        else:
            lead = db.get(Lead, ident)
            if lead is not None and lead.project_id == project.id:
                if lead.call_id is not None:
                    return lead.call_id, None
                if lead.phone_e164:
                    return None, lead.phone_e164
    phone = next((p for p in (_first_phone(item) for item in sources) if p), None)
    if phone is None and str(deal.get("CONTACT_ID") or "0") not in ("", "0"):
        contact = api.call("crm.contact.get", {"id": int(deal["CONTACT_ID"])}) or {}
        phone = _first_phone(contact)
    return None, phone


def deal_row(
    db: Session, project: Project, api: Bitrix24Api, deal_id: int
) -> tuple[DealRow | None, str]:
    """The deal as an import row (None with the reason when it names nothing of ours)."""
    deal = api.call("crm.deal.get", {"id": deal_id}) or {}
    external_id = f"{EXTERNAL_PREFIX}{deal_id}"
    status = SEMANTICS.get(str(deal.get("STAGE_SEMANTIC_ID") or "P"), DealStatus.OPEN)
    call_id, phone = _link(db, project, api, deal)
    if call_id is None and phone is None:
        return None, (
            f"Bitrix24 deal {deal_id} names no Ringtrail call or lead and no phone: "
            "it was not started by a tracked call"
        )
    closed = _moment(deal.get("CLOSEDATE")) if status is not DealStatus.OPEN else None
    row = DealRow(
        deal_id=external_id,
        status=status.value,
        revenue=_decimal(deal.get("OPPORTUNITY")),
        call_id=call_id,
        phone=phone,
        currency=str(deal.get("CURRENCY_ID") or "") or None,
        closed_at=closed,
    )
    return row, ""


def config_of(row: IntegrationDestination, secrets: Mapping[str, Any]) -> Bitrix24Config:
    """A Bitrix24 destination's settings with its secrets."""
    return Bitrix24Config.model_validate({**row.config, **secrets})


def sync_bitrix24_deal(
    db: Session,
    project: Project,
    config: Bitrix24Config,
    deal_id: int,
    client: httpx.Client,
    store: TokenStore | None = None,
) -> DealSync:
    """Read Bitrix24 deal `deal_id` and upsert it as the project's deal `bitrix24:<id>`.

    Raises Bitrix24Error when Bitrix24 cannot be read, InvalidInput when the deal cannot be
    taken (another currency than the project's, a negative amount). The caller commits.
    `store` keeps a renewed app token pair (default: the destination's own store).
    """
    api = BITRIX24.api(client, config)
    if store is not None:
        api.store = store
    row, why = deal_row(db, project, api, deal_id)
    if row is None:
        return DealSync(f"{EXTERNAL_PREFIX}{deal_id}", ignored=why)
    return DealSync(row.deal_id, imported=upsert_deals(db, project, [row]))
