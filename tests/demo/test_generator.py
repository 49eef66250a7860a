"""The demo generator: every kind of row, realistic shapes, valid numbers, on both backends."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlalchemy import func, select

from ringtrail.demo import catalog
from ringtrail.demo.generator import generate_demo
from ringtrail.services.accounts import authenticate, role_in_project
from ringtrail.services.errors import Conflict
from ringtrail.storage.models import (
    AdCost,
    ApiKey,
    Base,
    Call,
    CallComment,
    CallEvent,
    CallScore,
    CallTag,
    Deal,
    Lead,
    Membership,
    NumberLease,
    Organization,
    Pool,
    Project,
    Recording,
    SourceRule,
    Tag,
    TrackingNumber,
    User,
    Visit,
    Visitor,
)
from tests.demo.conftest import GeneratedDemo

FILLED = (
    Organization, Project, User, Membership, Pool, TrackingNumber, SourceRule, Tag, Visitor,
    Visit, NumberLease, Call, CallEvent, Recording, Lead, CallTag, CallScore, CallComment,
    AdCost, Deal,
)  # fmt: skip


@pytest.mark.parametrize("model", FILLED, ids=lambda m: m.__tablename__)
def test_demo_fills_every_kind_of_row(generated: GeneratedDemo, model: type[Base]) -> None:
    with generated.session() as db:
        assert db.scalar(select(func.count()).select_from(model)) > 0


def test_demo_creates_no_api_keys(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        assert db.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_summary_counts_match_the_tables(generated: GeneratedDemo) -> None:
    counts = generated.summary.counts
    with generated.session() as db:
        for name, model in (("visits", Visit), ("calls", Call), ("leads", Lead), ("deals", Deal)):
            assert db.scalar(select(func.count()).select_from(model)) == counts[name]
    assert 2_000 <= counts["visits"] <= 8_000
    assert 150 <= counts["calls"] <= 800


def test_calls_include_missed_busy_answered_repeat_and_unattributed(
    generated: GeneratedDemo,
) -> None:
    with generated.session() as db:
        statuses = dict(db.execute(select(Call.status, func.count()).group_by(Call.status)).all())
        kinds = dict(
            db.execute(
                select(Call.attribution_kind, func.count()).group_by(Call.attribution_kind)
            ).all()
        )
        repeats = db.scalars(select(Call).where(Call.is_first_time.is_(False))).all()
    assert {"answered", "missed", "busy"} <= set(statuses)
    assert statuses["answered"] > statuses["missed"] > statuses["busy"]
    assert {"session", "static", "unattributed"} <= set(kinds)
    assert kinds["session"] > kinds["unattributed"]
    assert repeats
    with generated.session() as db:
        for call in repeats:
            first = db.get(Call, call.first_call_id)
            assert first is not None and first.caller_e164 == call.caller_e164
            assert first.started_at < call.started_at and first.is_first_time


def test_session_calls_fall_inside_the_lease_of_the_visit_they_credit(
    generated: GeneratedDemo,
) -> None:
    with generated.session() as db:
        rows = db.execute(
            select(Call, NumberLease)
            .join(NumberLease, NumberLease.visit_id == Call.visit_id)
            .where(Call.attribution_kind == "session")
        ).all()
    assert rows
    for call, lease in rows:
        assert lease.number_id == call.tracking_number_id
        assert lease.leased_at <= call.started_at <= lease.hold_until
        assert 0.5 <= call.confidence <= 1.0
        assert call.source is not None and call.candidates[0]["visit_id"] == call.visit_id


def test_number_is_never_held_by_two_visitors_at_once(generated: GeneratedDemo) -> None:
    holds: dict[int, list[NumberLease]] = defaultdict(list)
    with generated.session() as db:
        for lease in db.scalars(select(NumberLease).order_by(NumberLease.leased_at)):
            holds[lease.number_id].append(lease)
        live = db.scalar(
            select(func.count()).select_from(NumberLease).where(NumberLease.released_at.is_(None))
        )
    for leases in holds.values():
        for earlier, later in pairwise(leases):
            assert later.leased_at >= earlier.hold_until + timedelta(minutes=30)
    assert live is not None and live <= catalog.POOL_SIZE


def test_every_phone_number_is_valid_e164(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        numbers = set(db.scalars(select(TrackingNumber.e164)))
        numbers |= set(db.scalars(select(Call.caller_e164)))
        numbers |= set(db.scalars(select(Call.dialled_e164)))
        numbers |= {n for n in db.scalars(select(Lead.phone_e164)) if n}
        numbers |= {n for n in db.scalars(select(Project.main_number)) if n}
    assert len(numbers) > 100
    for number in numbers:
        assert number is not None and number.startswith("+")
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_static_numbers_include_offline_only_billboard_and_radio(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        statics = db.scalars(select(TrackingNumber).where(TrackingNumber.kind == "static")).all()
        pooled = db.scalars(select(TrackingNumber).where(TrackingNumber.kind == "pool")).all()
    assert {n.source for n in statics if n.offline_only} == {"billboard", "radio"}
    assert any(n.source == "google_business_profile" and not n.offline_only for n in statics)
    assert len(pooled) == catalog.POOL_SIZE + 1
    assert sum(n.is_pool_default for n in pooled) == 1


def test_ad_costs_cover_only_paid_campaigns_that_brought_visits(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        costs = db.execute(select(AdCost.source, AdCost.campaign).distinct()).all()
        paid = set(
            db.execute(
                select(Visit.source, Visit.campaign).where(
                    Visit.channel.in_(["paid_search", "paid_social"])
                )
            )
        )
        positive = db.scalar(select(func.count()).select_from(AdCost).where(AdCost.cost <= 0))
    assert {source for source, _ in costs} == {"google", "facebook"}
    assert set(costs) <= paid
    assert positive == 0


def test_only_won_deals_carry_revenue_and_link_to_their_call(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        deals = db.scalars(select(Deal)).all()
        for deal in deals:
            assert (deal.revenue > 0) == (deal.status == "won")
            assert deal.currency == catalog.CURRENCY
            if deal.call_id is not None:
                call = db.get(Call, deal.call_id)
                assert call is not None and call.caller_e164 == deal.phone_e164
                if deal.status == "won":
                    assert call.deal_value == float(deal.revenue)
    assert {d.status for d in deals} >= {"won", "lost"}


def test_sales_marks_match_the_calls_target_flag(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        sales = db.scalar(select(User).where(User.email == "sales@ringtrail.example"))
        scores = db.scalars(select(CallScore)).all()
        assert sales is not None
        for score in scores:
            call = db.get(Call, score.call_id)
            assert call is not None and score.user_id == sales.id
            assert call.is_target == (score.label == "target")
            assert call.target_set_by == "user"
        spam = db.scalars(
            select(Call)
            .join(CallTag, CallTag.call_id == Call.id)
            .join(Tag)
            .where(Tag.name == "spam")
        ).all()
    assert {s.label for s in scores} == {"target", "not_target"}
    assert spam and all(call.is_target is not True for call in spam)


def test_a_call_lead_opens_per_caller_within_the_unique_window(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        kinds = dict(db.execute(select(Lead.kind, func.count()).group_by(Lead.kind)).all())
        unique_calls = db.scalar(select(func.count()).where(Call.is_unique.is_(True)))
        unlinked = db.scalar(select(func.count()).where(Call.lead_id.is_(None)))
        shared = db.execute(
            select(Call.lead_id, func.count(func.distinct(Call.caller_e164)))
            .group_by(Call.lead_id)
            .having(func.count(func.distinct(Call.caller_e164)) > 1)
        ).all()
    assert kinds["call"] == unique_calls
    assert unlinked == 0
    assert shared == []
    assert kinds["form"] > 0 and kinds["callback"] > 0


def test_weekdays_are_busier_than_sundays_and_nights_quieter_than_days(
    generated: GeneratedDemo,
) -> None:
    zone = ZoneInfo(catalog.TIMEZONE)
    by_weekday: dict[int, int] = defaultdict(int)
    by_hour: dict[int, int] = defaultdict(int)
    with generated.session() as db:
        for started in db.scalars(select(Visit.started_at)):
            local = started.astimezone(zone)
            by_weekday[local.weekday()] += 1
            by_hour[local.hour] += 1
    assert by_weekday[1] > by_weekday[6] * 1.3
    assert by_hour[20] > by_hour[3] * 5


def test_history_ends_before_now_and_is_timezone_aware(generated: GeneratedDemo) -> None:
    with generated.session() as db:
        first, last = db.execute(select(func.min(Call.started_at), func.max(Call.ended_at))).one()
        visits_from = db.scalar(select(func.min(Visit.started_at)))
    assert first.tzinfo is not None and last.tzinfo is not None
    assert last <= generated.now
    assert visits_from is not None
    assert generated.now - visits_from <= timedelta(days=91)


def test_demo_users_sign_in_with_the_documented_password_and_roles(
    generated: GeneratedDemo,
) -> None:
    with generated.session() as db:
        project = db.get(Project, generated.summary.project_id)
        assert project is not None
        assert (project.timezone, project.currency, project.default_country) == (
            "Europe/Kyiv",
            "UAH",
            "UA",
        )
        for person in catalog.PEOPLE:
            user = authenticate(db, person.email, catalog.DEMO_PASSWORD, generated.now)
            assert user is not None
            assert role_in_project(db, user, project.id) == person.role
        db.rollback()


def test_generating_twice_into_one_database_is_refused(generated: GeneratedDemo) -> None:
    with generated.session() as db, pytest.raises(Conflict):
        generate_demo(db, generated.now, days=2, seed=1)
