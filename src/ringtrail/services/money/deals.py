"""CRM deals in: upserted by the CRM's deal id and linked to the call or lead that started them.

A deal names its call (`call_id`, which must be the project's) or the customer's phone; a
phone links it to that caller's most recent call or lead of the project before the deal
closed (any time, for a deal not closed yet). A deal that matches nothing is kept unlinked
and reported. A won deal writes its revenue onto the linked call (`calls.deal_value`, the
sum of the call's won deals) so the calls log shows it. Every deal an import touches marks
the local days it counts on, before and after, stale, so the rollup job credits its revenue
again (services/money/returns.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.services.errors import InvalidInput
from ringtrail.services.money.tables import CsvLine, parse_decimal, parse_moment, read_csv, where
from ringtrail.services.reports.rollups import mark_calls_changed
from ringtrail.storage.models import Call, Deal, Lead, Project
from ringtrail.storage.models.base import utcnow

MAX_REVENUE = Decimal("999999999999.99")
DEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "deal_id": ("deal_id", "id", "deal", "external_id"),
    "call_id": ("call_id", "call"),
    "phone": ("phone", "phone_number", "client_phone", "telephone"),
    "status": ("status", "stage", "state"),
    "revenue": ("revenue", "amount", "value", "sum", "price"),
    "currency": ("currency", "currency_code"),
    "closed_at": ("closed_at", "close_date", "closed", "date"),
}


class DealStatus(StrEnum):
    """Where a deal stands in the CRM; only won deals bring revenue."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class DealRow:
    """One deal of an import; `closed_at` without a zone is read in the project's time zone."""

    deal_id: str
    status: str = DealStatus.OPEN
    revenue: Decimal = Decimal(0)
    call_id: int | None = None
    phone: str | None = None
    currency: str | None = None
    closed_at: datetime | None = None
    line: int | None = None


@dataclass(frozen=True)
class DealImport:
    """What an upsert did; `unlinked` lists the deal ids that matched no call or lead."""

    created: int
    updated: int
    linked: int
    unlinked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Checked:
    row: DealRow
    status: DealStatus
    phone_e164: str | None
    closed_at: datetime | None
    call: Call | None


def _check(db: Session, project: Project, row: DealRow, index: int) -> _Checked:
    def fail(column: str, message: str) -> InvalidInput:
        return InvalidInput(where(row.line, index, column), message)

    if not row.deal_id.strip() or len(row.deal_id) > 200:
        raise fail("deal_id", "the deal id must be 1 to 200 characters")
    try:
        status = DealStatus(row.status.strip().lower())
    except ValueError as exc:
        raise fail("status", f"{row.status!r} is not open, won or lost") from exc
    if row.revenue < 0 or row.revenue > MAX_REVENUE:
        raise fail("revenue", "the revenue must be between 0 and 999999999999.99")
    if row.currency and row.currency.upper() != project.currency:
        raise fail(
            "currency", f"currency {row.currency.upper()} is not the project's {project.currency}"
        )
    phone = None
    if row.phone:
        try:
            phone = to_e164(row.phone, project.default_country)
        except InvalidPhoneNumber as exc:
            raise fail("phone", str(exc)) from exc
    call = None
    if row.call_id is not None:
        call = db.get(Call, row.call_id)
        if call is None or call.project_id != project.id:
            raise fail("call_id", f"the project has no call {row.call_id}")
    elif phone is None:
        raise fail("call_id", "a deal needs a call id or a phone")
    closed_at = row.closed_at
    if closed_at is not None and closed_at.tzinfo is None:
        closed_at = closed_at.replace(tzinfo=ZoneInfo(project.timezone))
    return _Checked(row, status, phone, closed_at.astimezone(UTC) if closed_at else None, call)


def _latest_by_phone(
    db: Session, project: Project, phone: str, before: datetime | None
) -> tuple[Call | None, Lead | None]:
    """The caller's most recent call and lead of the project (up to `before`)."""
    calls = select(Call).where(Call.project_id == project.id, Call.caller_e164 == phone)
    leads = select(Lead).where(Lead.project_id == project.id, Lead.phone_e164 == phone)
    if before is not None:
        calls = calls.where(Call.started_at <= before)
        leads = leads.where(Lead.created_at <= before)
    call = db.scalars(calls.order_by(Call.started_at.desc(), Call.id.desc()).limit(1)).first()
    lead = db.scalars(leads.order_by(Lead.created_at.desc(), Lead.id.desc()).limit(1)).first()
    return call, lead


def _link(db: Session, project: Project, checked: _Checked) -> tuple[Call | None, Lead | None]:
    """The call and lead a deal belongs to (either may be None)."""
    given = checked.call
    if given is not None:
        return given, db.get(Lead, given.lead_id) if given.lead_id else None
    assert checked.phone_e164 is not None  # _check demands a call id or a phone
    call, lead = _latest_by_phone(db, project, checked.phone_e164, checked.closed_at)
    if call is not None and lead is not None:
        # The more recent contact started the deal; keep the other only if it is the same one.
        if lead.created_at > call.started_at and lead.call_id != call.id:
            call = db.get(Call, lead.call_id) if lead.call_id else None
        elif lead.created_at <= call.started_at and call.lead_id != lead.id:
            lead = db.get(Lead, call.lead_id) if call.lead_id else None
    elif call is not None and call.lead_id:
        lead = db.get(Lead, call.lead_id)
    elif lead is not None and lead.call_id:
        call = db.get(Call, lead.call_id)
    return call, lead


def upsert_deals(db: Session, project: Project, rows: Sequence[DealRow]) -> DealImport:
    """Create or update `project`'s deals by deal id and link them; all or nothing.

    Raises InvalidInput naming the first bad row before anything is written.
    """
    checked = [_check(db, project, row, index) for index, row in enumerate(rows, start=1)]
    seen: set[str] = set()
    for index, item in enumerate(checked, start=1):
        deal_id = item.row.deal_id.strip()
        if deal_id in seen:
            raise InvalidInput(
                where(item.row.line, index, "deal_id"),
                f"deal {deal_id} appears twice in the import",
            )
        seen.add(deal_id)
    existing = {
        deal.external_id: deal
        for deal in db.scalars(
            select(Deal).where(Deal.project_id == project.id, Deal.external_id.in_(sorted(seen)))
        )
    }
    created = updated = linked = 0
    unlinked: list[str] = []
    valued_calls: set[int] = set()  # calls a won deal of this import valued before or now
    counted: list[datetime] = []  # the instants the touched deals count at, before and after
    for item in checked:
        deal_id = item.row.deal_id.strip()
        call, lead = _link(db, project, item)
        deal = existing.get(deal_id)
        if deal is not None:
            counted.append(_counted_at(db, deal))
        if deal is None:
            deal = Deal(project_id=project.id, external_id=deal_id, currency=project.currency)
            db.add(deal)
            created += 1
        else:
            updated += 1
            if deal.call_id is not None and deal.status == DealStatus.WON:
                valued_calls.add(deal.call_id)
        deal.call_id = call.id if call else None
        deal.lead_id = lead.id if lead else None
        deal.phone_e164 = item.phone_e164 or (call.caller_e164 if call else None)
        deal.status = item.status.value
        deal.revenue = item.row.revenue.quantize(Decimal("0.01"))
        deal.currency = project.currency
        deal.closed_at = item.closed_at
        if call is not None and item.status is DealStatus.WON:
            valued_calls.add(call.id)
        if call is None and lead is None:
            unlinked.append(deal_id)
        else:
            linked += 1
        counted.append(_counted_at(db, deal, call, lead))
    db.flush()
    _write_deal_values(db, project, valued_calls)
    mark_calls_changed(db, project.id, counted)
    return DealImport(created=created, updated=updated, linked=linked, unlinked=unlinked)


def _counted_at(
    db: Session, deal: Deal, call: Call | None = None, lead: Lead | None = None
) -> datetime:
    """The instant whose local day `deal` counts on in reports: its call's start, else its
    lead's creation, else its close, else its import (services/money/returns.py)."""
    call = call or (db.get(Call, deal.call_id) if deal.call_id else None)
    if call is not None:
        return call.started_at
    lead = lead or (db.get(Lead, deal.lead_id) if deal.lead_id else None)
    if lead is not None:
        return lead.created_at
    return deal.closed_at or deal.created_at or utcnow()


def _write_deal_values(db: Session, project: Project, call_ids: set[int]) -> None:
    """Each call's deal value: the sum of its won deals (None when it has none left).

    Only calls a won deal points (or pointed) at are written, so a value a salesperson typed
    on a call without won deals stays.
    """
    if not call_ids:
        return
    query = (
        select(Deal.call_id, func.sum(Deal.revenue))
        .where(Deal.call_id.in_(sorted(call_ids)), Deal.status == DealStatus.WON)
        .group_by(Deal.call_id)
    )
    won = dict(db.execute(query).all())
    changed = []
    for call in db.scalars(select(Call).where(Call.id.in_(sorted(call_ids)))):
        total = won.get(call.id)
        value = float(total) if total is not None else None
        if call.deal_value != value:
            call.deal_value = value
            changed.append(call.started_at)
    if changed:
        mark_calls_changed(db, project.id, changed)


def _deal_row(line: CsvLine) -> DealRow:
    return DealRow(
        deal_id=line.required("deal_id", str),
        status=line.text("status") or DealStatus.OPEN,
        revenue=line.value("revenue", parse_decimal) or Decimal(0),
        call_id=line.value("call_id", _call_id),
        phone=line.text("phone") or None,
        currency=line.text("currency") or None,
        closed_at=line.value("closed_at", parse_moment),
        line=line.line,
    )


def _call_id(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise ValueError(f"{raw!r} is not a call id")
    return int(raw)


def parse_deals_csv(text: str) -> list[DealRow]:
    """The rows of a deals CSV (docs/money.md); InvalidInput names the line and column."""
    return [_deal_row(line) for line in read_csv(text, DEAL_COLUMNS, ("deal_id", "status"))]


def list_deals(
    db: Session, project: Project, *, status: str | None = None, limit: int = 500, offset: int = 0
) -> list[Deal]:
    """The project's deals, newest first."""
    query = select(Deal).where(Deal.project_id == project.id)
    if status:
        query = query.where(Deal.status == status)
    return list(db.scalars(query.order_by(Deal.id.desc()).limit(limit).offset(offset)))
