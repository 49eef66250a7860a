"""A small world whose report figures are worked out by hand (tests/services/reports).

The project is in America/Los_Angeles (UTC-8 in January). The period is Fri 10 and Sat 11
January 2025 (local), the comparison period Wed 8 and Thu 9 January.

| call | local time | UTC | source/campaign | status | talk | wait | first | unique | tgt | kind |
|---|---|---|---|---|---|---|---|---|---|---|
| C1 | Fri 10 09:00 | 10 Jan 17:00 | google/spring | answered | 200 | 10 | y | y | y | site |
| C2 | Fri 10 23:30 | 11 Jan 07:30 | google/spring | answered | 700 | 20 | y | y | y | site |
| C3 | Sat 11 00:30 | 11 Jan 08:30 | google/winter | missed | 0 | - | n | n | - | site |
| C4 | Sat 11 10:00 | 11 Jan 18:00 | yelp/- | answered | 45 | 5 | n | y | y | ad |
| C5 | Sat 11 23:30 | 12 Jan 07:30 | yelp/- | answered | 20 | 15 | n | y | n | ad |
| C6 | Sat 11 14:00 | 11 Jan 22:00 | -/- | busy | 0 | - | y | y | - | unknown |
| C7 | Sun 12 00:30 | 12 Jan 08:30 | google/spring | outside the period |
| P1 | Thu 9 23:30 | 10 Jan 07:30 | google/spring | answered | 100 | 30 | y | y | y | site |
| P2 | Wed 8 12:00 | 8 Jan 20:00 | yelp/- | missed | 0 | - | y | y | - | ad |

C2 and C3 share a UTC day but not a local day; C5 and P1 fall on the UTC day after their
local day. C3 and P2 still need a callback; C5 carries the tag "vip"; C2's recording is
stored, C1's is still pending.

Leads: call leads of C1, C2, C4; forms on Fri 12:00 (google/spring, visitor 2) and Sat 23:50
(google/winter); a callback request Sat 08:00; a form on Thu and one on Sun (outside).
Visits: google 5 and (direct) 1 in the period (a bot's and Sunday's left out).
Ad costs: google/spring 30 (Fri) + 20 (Sat), google/winter 15 (Sat), yelp 10 (Fri); 40 on
Thu, 99 on Sun. Costs and leads carry the medium of their source's calls (google cpc, yelp
referral), so each cost meets its own channel's revenue. Won deals: D1 300 on C1 (visitor
1's touches: google/winter on 5 Jan, google/spring, then direct), D2 120 on C4 (static
yelp), D3 80 on the Friday form (google/spring), D5 50 on P1 (Thu); D4 is open, D6 is on C7
(outside).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.domain.reports.periods import Period
from ringtrail.services.accounts import get_or_create_organization
from ringtrail.services.projects import create_project
from ringtrail.storage.models import (
    AdCost,
    Call,
    Deal,
    Lead,
    Pool,
    Project,
    Recording,
    TrackingNumber,
    Visit,
    Visitor,
)
from tests.call_rows import add_call, tag_call

PERIOD = Period(date(2025, 1, 10), date(2025, 1, 11))
PREVIOUS = Period(date(2025, 1, 8), date(2025, 1, 9))


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in January 2025, UTC."""
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


@dataclass
class HandWorld:
    """The project and the calls by their name in the table above."""

    project: Project
    calls: dict[str, Call]


def _call(db: Session, project: Project, at: datetime, **values: Any) -> Call:
    answered = values.pop("status", "answered") == "answered"
    talk = values.pop("talk", 0)
    wait = values.pop("wait", 0)
    return add_call(
        db,
        project,
        started_at=at,
        status="answered" if answered else values.pop("unanswered"),
        answered_at=at + timedelta(seconds=wait) if answered else None,
        ended_at=at + timedelta(seconds=wait + talk),
        duration_seconds=wait + talk,
        talk_seconds=talk if answered else 0,
        **values,
    )


def _visitor(db: Session, project: Project, name: str) -> Visitor:
    visitor = Visitor(
        project_id=project.id, public_id=name, first_seen_at=utc(1, 0), last_seen_at=utc(12, 0)
    )
    db.add(visitor)
    db.flush()
    return visitor


def _visit(
    db: Session,
    project: Project,
    visitor: Visitor,
    at: datetime,
    source: str,
    medium: str,
    campaign: str | None,
    landing: str,
    *,
    bot: bool = False,
) -> Visit:
    visit = Visit(
        project_id=project.id,
        visitor_id=visitor.id,
        started_at=at,
        last_seen_at=at + timedelta(minutes=5),
        landing_path=landing,
        source=source,
        medium=medium,
        campaign=campaign,
        is_bot=bot,
    )
    db.add(visit)
    db.flush()
    return visit


MEDIUMS = {"google": "cpc", "yelp": "referral"}
"""The medium of each source's calls, costs and leads."""


def build_hand_world(db: Session, name: str = "Hand Plumbing") -> HandWorld:
    """The world of the module docstring, committed."""
    organization = get_or_create_organization(db, name)
    project = create_project(
        db,
        organization,
        f"{name} site",
        timezone="America/Los_Angeles",
        currency="USD",
        default_country="US",
        target_call_goal_percent=60,
    )
    v1, v2, other = (_visitor(db, project, f"{project.id}-{n}") for n in ("v1", "v2", "other"))
    # Visitor 1: a winter ad long ago, a spring ad, then a direct visit, then call C1.
    _visit(db, project, v1, utc(5, 18), "google", "cpc", "winter", "/")
    _visit(db, project, v1, utc(10, 16, 30), "google", "cpc", "spring", "/offer")
    _visit(db, project, v1, utc(10, 16, 50), "(direct)", "(none)", None, "/about")
    # Visitor 2: a spring ad, then a form.
    _visit(db, project, v2, utc(10, 19), "google", "cpc", "spring", "/offer")
    _visit(db, project, other, utc(12, 7, 45), "google", "cpc", "spring", "/offer")  # Sat 23:45
    _visit(db, project, other, utc(11, 8, 10), "google", "cpc", "winter", "/")
    _visit(db, project, other, utc(11, 17), "google", "cpc", "winter", "/")
    _visit(db, project, other, utc(11, 12), "google", "cpc", "spring", "/offer", bot=True)
    _visit(db, project, other, utc(12, 8, 15), "google", "cpc", "spring", "/offer")  # Sun

    site = {"attribution_kind": "session", "source": "google", "medium": "cpc"}
    ad = {"attribution_kind": "static", "source": "yelp", "medium": "referral"}
    calls = {
        "C1": _call(
            db, project, utc(10, 17), talk=200, wait=10, **site, campaign="spring",
            keyword="plumber", landing_page="/offer", is_first_time=True, is_unique=True,
            is_target=True, caller_region="California", visitor_id=v1.id,
            snapshot={"visitor_geo": {"region": "Oregon"}},
        ),
        "C2": _call(
            db, project, utc(11, 7, 30), talk=700, wait=20, **site, campaign="spring",
            keyword="plumber", landing_page="/offer", is_first_time=True, is_unique=True,
            is_target=True, caller_region="California",
            snapshot={"visitor_geo": {"region": "California"}},
        ),
        "C3": _call(
            db, project, utc(11, 8, 30), status="missed", unanswered="missed", wait=40, **site,
            campaign="winter", keyword="drain", landing_page="/", is_first_time=False,
            is_unique=False, is_target=None, caller_region="Nevada", needs_callback=True,
        ),
        "C4": _call(
            db, project, utc(11, 18), talk=45, wait=5, **ad, is_first_time=False,
            is_unique=True, is_target=True, caller_region="California",
        ),
        "C5": _call(
            db, project, utc(12, 7, 30), talk=20, wait=15, **ad, is_first_time=False,
            is_unique=True, is_target=False, caller_region=None,
        ),
        "C6": _call(
            db, project, utc(11, 22), status="busy", unanswered="busy", wait=3,
            attribution_kind="unattributed", is_first_time=True, is_unique=True, is_target=None,
        ),
        "C7": _call(
            db, project, utc(12, 8, 30), talk=90, wait=5, **site, campaign="spring",
            is_first_time=True, is_unique=True, is_target=True,
        ),
        "P1": _call(
            db, project, utc(10, 7, 30), talk=100, wait=30, **site, campaign="spring",
            keyword="plumber", is_first_time=True, is_unique=True, is_target=True,
        ),
        "P2": _call(
            db, project, utc(8, 20), status="missed", unanswered="missed", wait=30, **ad,
            is_first_time=True, is_unique=True, is_target=None, needs_callback=True,
        ),
    }  # fmt: skip
    tag_call(db, calls["C5"], "vip")
    db.add(Recording(call_id=calls["C2"].id, status="stored", content_type="audio/mpeg"))
    db.add(Recording(call_id=calls["C1"].id, status="pending"))

    def lead(
        kind: str, at: datetime, source: str | None, campaign: str | None, **more: Any
    ) -> Lead:
        row = Lead(
            project_id=project.id, kind=kind, created_at=at, source=source, campaign=campaign,
            medium=MEDIUMS.get(source or ""), **more,
        )  # fmt: skip
        db.add(row)
        db.flush()
        return row

    lead("call", utc(10, 17), "google", "spring", call_id=calls["C1"].id)
    lead("call", utc(11, 7, 30), "google", "spring", call_id=calls["C2"].id)
    lead("call", utc(11, 18), "yelp", None, call_id=calls["C4"].id)
    form = lead("form", utc(10, 20), "google", "spring", visitor_id=v2.id)  # Fri 12:00
    lead("form", utc(12, 7, 50), "google", "winter")  # Sat 23:50
    lead("callback", utc(11, 16), None, None)  # Sat 08:00
    lead("form", utc(9, 20), "google", "spring")  # Thu: the comparison period
    lead("form", utc(12, 9), "google", "spring")  # Sun 01:00: outside

    for day, source, campaign, cost in (
        (10, "google", "spring", "30.00"),
        (11, "google", "spring", "20.00"),
        (11, "google", "winter", "15.00"),
        (10, "yelp", "", "10.00"),
        (12, "google", "spring", "99.00"),
        (9, "google", "spring", "40.00"),
    ):
        db.add(
            AdCost(
                project_id=project.id, day=date(2025, 1, day), source=source, campaign=campaign,
                medium=MEDIUMS[source], cost=Decimal(cost), currency="USD",
            )
        )  # fmt: skip

    def deal(external: str, revenue: str, status: str = "won", **link: Any) -> None:
        db.add(
            Deal(
                project_id=project.id, external_id=external, status=status,
                revenue=Decimal(revenue), currency="USD", closed_at=utc(20, 12), **link,
            )
        )  # fmt: skip

    deal("D1", "300.00", call_id=calls["C1"].id)
    deal("D2", "120.00", call_id=calls["C4"].id)
    deal("D3", "80.00", lead_id=form.id)
    deal("D4", "1000.00", status="open", call_id=calls["C2"].id)
    deal("D5", "50.00", call_id=calls["P1"].id)
    deal("D6", "999.00", call_id=calls["C7"].id)

    pool = Pool(project_id=project.id, name="Site pool")
    db.add(pool)
    db.flush()
    for n in (1, 2):
        db.add(
            TrackingNumber(
                project_id=project.id, e164=f"+1415555{project.id:02d}{n:02d}", kind="pool",
                pool_id=pool.id,
            )
        )  # fmt: skip
    db.commit()
    return HandWorld(project, calls)
