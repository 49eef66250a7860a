"""Test helper: a project with a Google Ads cost, a tracked call, and a Bitrix24 destination
whose portal (the stub) has the deal that call started."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.services.money.costs import CostRow, import_costs
from ringtrail.services.reports.catalog import build_report
from ringtrail.storage.models import Call, IntegrationDestination, Project
from tests.call_rows import add_call
from tests.integrations.bitrix24_stub import Bitrix24Stub

DAY = Period(datetime(2025, 3, 1).date(), datetime(2025, 3, 1).date())
NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
APP_TOKEN = "b24-outgoing-token"


@dataclass
class DealWorld:
    project: Project
    call: Call
    destination: IntegrationDestination
    deal_id: int


def build(db: Session, project: Project, stub: Bitrix24Stub, **deal: Any) -> DealWorld:
    import_costs(db, project, [CostRow(DAY.start, "google", Decimal("100"), campaign="brand")])
    call = add_call(
        db, project, started_at=datetime(2025, 3, 1, 9, tzinfo=UTC), source="google",
        medium="cpc", campaign="brand", caller_e164="+380501110001", is_target=True,
    )  # fmt: skip
    destination = IntegrationDestination(
        project_id=project.id,
        kind="bitrix24",
        name="Our Bitrix24",
        config={"connection": "webhook", "create": "deal"},
        secrets=json.dumps({"webhook_url": stub.webhook_url, "application_token": APP_TOKEN}),
    )
    db.add(destination)
    db.commit()
    deal_id = stub.new_id()
    stub.deals[deal_id] = {
        "ID": str(deal_id),
        "STAGE_ID": "NEW",
        "STAGE_SEMANTIC_ID": "P",
        "OPPORTUNITY": "0.00",
        "CURRENCY_ID": project.currency,
        "CLOSEDATE": "2025-03-10T03:00:00+03:00",
        "ORIGINATOR_ID": "ringtrail",
        "ORIGIN_ID": f"call:{call.id}",
        **deal,
    }
    return DealWorld(project, call, destination, deal_id)


def paid_search(db: Session, project: Project) -> dict[str, Any]:
    """The profit report's Google Ads row for the day."""
    report = build_report(db, project, "profit", DAY, now=NOW)
    rows = {
        (r.cells["source"], r.cells["channel"]): r.cells for r in report.table("by_source").rows
    }
    return rows[("google", "Paid search")]
