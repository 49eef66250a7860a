"""The lead-mix report counts calls, forms and callback requests of a project exactly as the
database holds them: calls from real call ingestion, forms and callbacks from
services.leads, recomputed here from the leads table by local day and kind, before and after
the rollup job. A call after a form from the same phone joins the form's person, and marking
a form lead counts in the reports' target flag."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.domain.reports.periods import Period
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.services.lead_marking import mark_lead_target
from ringtrail.services.leads import person_key, record_lead
from ringtrail.services.reports.catalog import build_overview, build_report
from ringtrail.services.reports.engine import ReportScope, lead_rows
from ringtrail.services.reports.rollups import refresh_dirty
from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call, Lead, Project
from tests.conftest import World

KYIV = ZoneInfo("Europe/Kyiv")
DAY1 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 10:00 in Kyiv
DAY2 = DAY1 + timedelta(days=1)
PERIOD = Period(date(2026, 11, 23), date(2026, 11, 24))
STATIC = "+380441230001"


class Clock:
    def __init__(self) -> None:
        self.now = DAY1

    def __call__(self) -> datetime:
        return self.now


def call(ingestion: CallIngestion, clock: Clock, name: str, caller: str, at: datetime) -> None:
    clock.now = at + timedelta(minutes=2)
    for kind, seconds, extra in (
        (CallEventKind.STARTED, 0, {"dialled": STATIC, "caller": caller}),
        (CallEventKind.ANSWERED, 10, {}),
        (CallEventKind.ENDED, 70, {"outcome": CallOutcome.ANSWERED}),
    ):
        ingestion.ingest(
            CallEvent(
                provider="test",
                provider_call_id=name,
                kind=kind,
                occurred_at=at + timedelta(seconds=seconds),
                dedupe_key=f"test:{name}:{kind.value}",
                **extra,  # type: ignore[arg-type]
            )
        )


def lead(db: Session, project: Project, kind: str, phone: str, at: datetime) -> Lead:
    outcome = record_lead(db, project, kind=kind, visitor_token=None, phone=phone, now=at)
    db.commit()
    return outcome.lead


def from_database(db: Session, project: Project) -> dict[date, Counter[str]]:
    """Leads per local day and kind, counted here from the leads table."""
    counts: dict[date, Counter[str]] = {day: Counter() for day in PERIOD.dates()}
    for created_at, kind in db.execute(
        select(Lead.created_at, Lead.kind).where(Lead.project_id == project.id)
    ):
        moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        day = moment.astimezone(KYIV).date()
        if day in counts:
            counts[day][kind] += 1
    return counts


def report_counts(db: Session, project: Project) -> dict[date, Counter[str]]:
    report = build_report(db, project, "lead_mix", PERIOD)
    table = report.table("lead_mix")
    result = {}
    for row in table.rows:
        cells = row.cells
        assert cells["leads"] == cells["calls"] + cells["forms"] + cells["callbacks"]
        result[cells["day"]] = Counter(
            {"call": cells["calls"], "form": cells["forms"], "callback": cells["callbacks"]}
        )
    return result


def test_lead_mix_shows_calls_forms_and_callbacks_as_the_database_holds_them(
    db: Session, world: World, runtime: Runtime
) -> None:
    project = world.ours.project
    add_number(db, project, {"number": STATIC, "kind": "static", "source": "flyer"})
    db.commit()
    clock = Clock()
    ingestion = CallIngestion(runtime.sessions, clock=clock)

    form = lead(db, project, "form", "+380671112233", DAY1)
    lead(db, project, "form", "067 111 22 33", DAY1 + timedelta(minutes=1))  # back button
    lead(db, project, "callback", "+380502223344", DAY1 + timedelta(hours=1))
    call(ingestion, clock, "c1", "+380671112233", DAY1 + timedelta(hours=2))  # after the form
    call(ingestion, clock, "c2", "+380933334455", DAY2)
    lead(db, project, "form", "+380504445566", DAY2 + timedelta(hours=3))
    lead(db, project, "callback", "+380505556677", DAY2 + timedelta(hours=4))
    lead(db, project, "callback", "+380506667788", DAY2 + timedelta(hours=20))  # next local day

    expected = from_database(db, project)
    assert expected == {
        date(2026, 11, 23): Counter({"form": 1, "callback": 1, "call": 1}),
        date(2026, 11, 24): Counter({"call": 1, "form": 1, "callback": 1}),
    }
    assert report_counts(db, project) == expected
    assert refresh_dirty(db) > 0
    db.commit()
    assert report_counts(db, project) == expected  # the same from the rollups

    db.expire_all()
    call_lead = db.scalars(
        select(Lead).join(Call, Call.lead_id == Lead.id).where(Call.provider_call_id == "c1")
    ).one()
    assert call_lead.kind == "call" and person_key(call_lead) == form.id

    sources = build_report(db, project, "sources", PERIOD, by="source")
    by_source = {row.cells["value"]: row.cells["leads"] for row in sources.tables[0].rows}
    assert by_source == {"flyer": 2, "": 4}
    assert sources.tables[0].totals is not None and sources.tables[0].totals["leads"] == 6

    profit = build_report(db, project, "profit", PERIOD).table("by_source")
    assert sum(row.cells["leads"] for row in profit.rows) == 6  # every kind, per source
    assert profit.totals is not None and profit.totals["leads"] == 6

    overview = build_overview(db, project, PERIOD)
    figures = {item.key: item.value for item in overview.headlines}
    assert (figures["leads"], figures["form_leads"], figures["callback_leads"]) == (6, 2, 2)


def test_marking_a_form_lead_moves_the_reports_target_leads(db: Session, world: World) -> None:
    project = world.ours.project
    form = lead(db, project, "form", "+380671112233", DAY1)
    refresh_dirty(db)
    db.commit()

    mark_lead_target(db, project.id, form.id, None, True)
    db.commit()

    rows = lead_rows(db, ReportScope.of(project, PERIOD), keep=("kind", "is_target"))
    assert {(key.kind, key.is_target): n for key, n in rows.items()} == {("form", True): 1}
