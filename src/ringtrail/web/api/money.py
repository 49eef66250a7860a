"""/api/v1/projects/{id}/costs and /deals: ad costs and CRM deals in, by JSON or CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import Field

from ringtrail.domain.reports.periods import InvalidPeriod, Period
from ringtrail.domain.roles import Permission
from ringtrail.services.money.costs import CostRow, import_costs, list_costs, parse_costs_csv
from ringtrail.services.money.deals import (
    DealRow,
    list_deals,
    parse_deals_csv,
    upsert_deals,
)
from ringtrail.services.money.tables import MAX_ROWS, MAX_UPLOAD_BYTES, decode_upload
from ringtrail.storage.models import AdCost, Deal
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import MAX_ID, ProjectId, Text100, Text200, Text500
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}", tags=["money"])

Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", examples=["UAH"])]
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


class CostIn(StrictInput):
    """One day's spend on one source/campaign."""

    date: date
    source: Text100 = Field(min_length=1, examples=["google"])
    medium: Text100 = "cpc"
    campaign: Text500 = ""
    cost: Amount
    currency: Currency | None = Field(default=None, description="Must be the project's")
    clicks: Count | None = None
    impressions: Count | None = None


class CostImportOut(Output):
    rows: int = Field(description="Rows written")
    days_replaced: int = Field(description="(day, source) pairs whose earlier rows were replaced")


class CostOut(Output):
    date: date
    source: str
    medium: str
    campaign: str
    cost: Decimal
    currency: str
    clicks: int | None
    impressions: int | None


class DealIn(StrictInput):
    """One CRM deal; give `call_id` or `phone` to link it."""

    deal_id: Text200 = Field(min_length=1, examples=["CRM-1042"])
    call_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    phone: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    status: Literal["open", "won", "lost"] = "open"
    revenue: Amount = Decimal(0)
    currency: Currency | None = Field(default=None, description="Must be the project's")
    closed_at: datetime | None = Field(
        default=None, description="Without an offset, read in the project's time zone"
    )


class DealImportOut(Output):
    created: int
    updated: int
    linked: int
    unlinked: list[str] = Field(description="Deal ids that matched no call or lead")


class DealOut(Output):
    deal_id: str
    status: str
    revenue: Decimal
    currency: str
    call_id: int | None
    lead_id: int | None
    phone: str | None
    closed_at: datetime | None
    created_at: datetime


async def csv_body(request: Request) -> str:
    """The request body as CSV text (UTF-8, or Windows-1251), at most the upload limit."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, "the CSV is larger than the upload limit"
            )
    return decode_upload(bytes(data))


CsvBody = Annotated[str, Depends(csv_body)]


def _cost_out(row: AdCost) -> CostOut:
    return CostOut(
        date=row.day,
        source=row.source,
        medium=row.medium,
        campaign=row.campaign,
        cost=row.cost,
        currency=row.currency,
        clicks=row.clicks,
        impressions=row.impressions,
    )


def _deal_out(deal: Deal) -> DealOut:
    return DealOut(
        deal_id=deal.external_id,
        status=deal.status,
        revenue=deal.revenue,
        currency=deal.currency,
        call_id=deal.call_id,
        lead_id=deal.lead_id,
        phone=deal.phone_e164,
        closed_at=deal.closed_at,
        created_at=deal.created_at,
    )


@router.put("/costs", response_model=CostImportOut)
def put_costs(
    project_id: ProjectId,
    body: Annotated[list[CostIn], Field(max_length=MAX_ROWS)],
    db: DbSession,
    principal: Principal,
) -> CostImportOut:
    """Import ad costs; every (day, source) in the body replaces that day's earlier rows."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MONEY)
    rows = [
        CostRow(
            day=item.date,
            source=item.source,
            cost=item.cost,
            medium=item.medium,
            campaign=item.campaign,
            currency=item.currency,
            clicks=item.clicks,
            impressions=item.impressions,
        )
        for item in body
    ]
    result = import_costs(db, project, rows)
    return CostImportOut(rows=result.rows, days_replaced=result.days_replaced)


@router.post(
    "/costs/csv",
    response_model=CostImportOut,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def post_costs_csv(
    project_id: ProjectId, text: CsvBody, db: DbSession, principal: Principal
) -> CostImportOut:
    """Import ad costs from a CSV body (docs/money.md); the same replace rule as PUT."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MONEY)
    result = import_costs(db, project, parse_costs_csv(text))
    return CostImportOut(rows=result.rows, days_replaced=result.days_replaced)


@router.get("/costs", response_model=list[CostOut])
def get_costs(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to", description="Included")] = None,
) -> list[CostOut]:
    """The project's cost rows from `from` to `to` (both included; default the last 30 days)."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    today = datetime.now(UTC).astimezone(ZoneInfo(project.timezone)).date()
    last = end or (start + timedelta(days=29) if start else today)
    first = start or last - timedelta(days=29)
    try:
        period = Period(first, last)
    except InvalidPeriod as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    return [_cost_out(row) for row in list_costs(db, project, period)]


@router.put("/deals", response_model=DealImportOut)
def put_deals(
    project_id: ProjectId,
    body: Annotated[list[DealIn], Field(max_length=MAX_ROWS)],
    db: DbSession,
    principal: Principal,
) -> DealImportOut:
    """Create or update deals by `deal_id` and link them to their call or lead."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MONEY)
    rows = [
        DealRow(
            deal_id=item.deal_id,
            status=item.status,
            revenue=item.revenue,
            call_id=item.call_id,
            phone=item.phone,
            currency=item.currency,
            closed_at=item.closed_at,
        )
        for item in body
    ]
    result = upsert_deals(db, project, rows)
    return DealImportOut.model_validate(result)


@router.post(
    "/deals/csv",
    response_model=DealImportOut,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def post_deals_csv(
    project_id: ProjectId, text: CsvBody, db: DbSession, principal: Principal
) -> DealImportOut:
    """Create or update deals from a CSV body (docs/money.md)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_MONEY)
    return DealImportOut.model_validate(upsert_deals(db, project, parse_deals_csv(text)))


@router.get("/deals", response_model=list[DealOut])
def get_deals(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    deal_status: Annotated[Literal["open", "won", "lost"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[DealOut]:
    """The project's deals, newest first."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    deals = list_deals(db, project, status=deal_status, limit=limit, offset=offset)
    return [_deal_out(deal) for deal in deals]
