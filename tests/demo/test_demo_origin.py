"""The demo's calls after a site visit are counted as such by the origin report and its drill."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ringtrail.demo import catalog
from ringtrail.domain.attribution import AttributionKind, CallOrigin
from ringtrail.domain.reports.periods import Period
from ringtrail.services.calls import CallFilters, iter_calls
from ringtrail.services.reports.catalog import build_report
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage.models import Call, Project, TrackingNumber
from tests.demo.conftest import GeneratedDemo


def _period(demo: GeneratedDemo) -> Period:
    today = demo.now.astimezone(ZoneInfo(catalog.TIMEZONE)).date()
    return Period(today - timedelta(days=29), today)


def _website_calls(demo: GeneratedDemo, period: Period) -> tuple[int, int]:
    """(calls to a pool number while a visitor held it, calls to a static number) in `period`.

    Read off what the demo stored about each call (its visit, the kind of number dialled),
    not off its attribution kind.
    """
    zone = ZoneInfo(catalog.TIMEZONE)
    with demo.session() as db:
        rows = db.execute(
            select(Call.started_at, Call.visit_id, TrackingNumber.kind)
            .join(TrackingNumber, TrackingNumber.id == Call.tracking_number_id)
            .where(Call.project_id == demo.summary.project_id)
        ).all()
    in_period = [
        r for r in rows if period.start <= r.started_at.astimezone(zone).date() <= period.end
    ]
    site = sum(1 for r in in_period if r.kind == "pool" and r.visit_id is not None)
    ads = sum(1 for r in in_period if r.kind == "static")
    return site, ads


def test_the_origin_report_counts_the_demos_website_calls(generated: GeneratedDemo) -> None:
    period = _period(generated)
    site, ads = _website_calls(generated, period)
    assert site > 0 and ads > 0
    with generated.session() as db:
        rebuild_project(db, generated.summary.project_id, now=generated.now)
        project = db.get(Project, generated.summary.project_id)
        assert project is not None
        report = build_report(db, project, "origin", period, now=generated.now)
        filters = CallFilters(
            period_from=period.start.isoformat(),
            period_to=(period.end + timedelta(days=1)).isoformat(),
            origin=CallOrigin.SITE.value,
        )
        listed = len(list(iter_calls(db, project, filters, limit=100_000)))
    headlines = {h.key: h.value for h in report.headlines}
    assert headlines["site_calls"] == site
    assert headlines["ad_calls"] == ads
    rows = {row.drill["origin"]: row.cells for row in report.tables[0].rows if row.drill}
    assert rows[CallOrigin.SITE.value]["calls"] == site
    assert rows[CallOrigin.AD.value]["calls"] == ads
    assert listed == site


def test_the_demo_writes_only_kinds_of_the_vocabulary(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        kinds = set(db.scalars(select(Call.attribution_kind).distinct()))
    assert kinds <= {kind.value for kind in AttributionKind}
    assert AttributionKind.SESSION.value in kinds
