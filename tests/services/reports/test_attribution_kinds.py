"""Every attribution kind ingestion can write has one class, and every report splits by it.

The reports that split calls by kind: the origin report (rolled-up days and raw days), the
calls log's origin filter (the report rows' drill-down) and the money returns (a static call
is its own touch). A kind added to `AttributionKind` without a class fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from ringtrail.domain.attribution import ORIGIN_OF_KIND, AttributionKind, CallOrigin, origin_of
from ringtrail.domain.money import AttributionModel
from ringtrail.domain.reports.periods import Period
from ringtrail.services.accounts import get_or_create_organization
from ringtrail.services.calls import CallFilters, iter_calls
from ringtrail.services.money.returns import money_by
from ringtrail.services.projects import create_project
from ringtrail.services.reports.catalog import build_report
from ringtrail.services.reports.engine import ReportScope
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage.models import Deal, Project
from tests.call_rows import add_call

DAY = date(2025, 3, 1)
PERIOD = Period(DAY, DAY)
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def test_every_kind_has_a_class() -> None:
    assert set(ORIGIN_OF_KIND) == set(AttributionKind)
    for kind in AttributionKind:
        assert origin_of(kind.value) is ORIGIN_OF_KIND[kind]


def test_the_classes_are_the_reports_rows() -> None:
    assert {ORIGIN_OF_KIND[AttributionKind.STATIC]} == {CallOrigin.AD}
    assert {ORIGIN_OF_KIND[k] for k in (AttributionKind.SESSION, AttributionKind.POOL_SOURCE)} == {
        CallOrigin.SITE
    }
    assert ORIGIN_OF_KIND[AttributionKind.PENDING] is CallOrigin.UNKNOWN
    assert ORIGIN_OF_KIND[AttributionKind.UNATTRIBUTED] is CallOrigin.UNKNOWN


def _project_with(db: Session, kind: AttributionKind) -> Project:
    organization = get_or_create_organization(db, f"Kinds {kind.value}")
    project = create_project(db, organization, f"Kinds {kind.value}", timezone="UTC")
    call = add_call(
        db,
        project,
        started_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        attribution_kind=kind.value,
        source="google",
        medium="cpc",
        campaign="spring",
    )
    db.add(
        Deal(
            project_id=project.id,
            external_id=f"deal-{kind.value}",
            call_id=call.id,
            status="won",
            revenue=Decimal("100.00"),
            currency=project.currency,
        )
    )
    db.commit()
    return project


@pytest.mark.parametrize("rolled", [False, True], ids=["raw", "rolled-up"])
@pytest.mark.parametrize("kind", list(AttributionKind))
def test_every_report_that_splits_by_kind_places_every_kind(
    db: Session, kind: AttributionKind, rolled: bool
) -> None:
    project = _project_with(db, kind)
    if rolled:
        rebuild_project(db, project.id, now=NOW)
    expected = ORIGIN_OF_KIND[kind]

    report = build_report(db, project, "origin", PERIOD, now=NOW)
    counted = {
        row.drill["origin"]: row.cells["calls"] for row in report.tables[0].rows if row.drill
    }
    assert counted == {origin.value: int(origin is expected) for origin in CallOrigin}

    for origin in CallOrigin:
        filters = CallFilters(
            period_from=DAY.isoformat(),
            period_to=(DAY + timedelta(days=1)).isoformat(),
            origin=origin.value,
        )
        listed = list(iter_calls(db, project, filters, limit=10))
        assert len(listed) == int(origin is expected), origin

    # A static call is its own touch; any other kind looks for its visitor's visits (none here)
    # and falls back to the call's own source: both credit google / spring here.
    scope = ReportScope.of(project, PERIOD)
    money = money_by(db, scope, AttributionModel.LAST, raw=not rolled)
    assert sum(m.revenue for m in money.values()) == Decimal("100.00")
