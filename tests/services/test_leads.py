"""Form and callback leads: attributed to the visitor's latest visit, phones in E.164,
duplicates made one lead, a form and a call from one phone joined as one person, and the
report day marked stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.errors import InvalidInput
from ringtrail.services.form_leads import (
    FormOutcome,
    FormsDisabled,
    FormSubmission,
    RateLimited,
    check_rate,
    submit_form,
)
from ringtrail.services.lead_marking import list_leads, mark_lead_target
from ringtrail.services.leads import link_call_leads, person_key, record_lead
from ringtrail.services.rate_limits import MemoryRateLimiter
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.storage.models import Lead, Project, RollupDirty, Visit, Visitor
from tests.call_rows import T0
from tests.conftest import World

SIGNER = TokenSigner("test-secret")
PUBLIC_ID = "AbCdEfGhIjKlMnOpQrStUv"


def visitor_with_visits(db: Session, project: Project, public_id: str = PUBLIC_ID) -> Visitor:
    """A visitor with an older Google visit and a newer Facebook ads visit."""
    visitor = Visitor(project_id=project.id, public_id=public_id, first_seen_at=T0, last_seen_at=T0)
    db.add(visitor)
    db.flush()
    for hours, source, medium, campaign in (
        (0, "google", "organic", None),
        (2, "facebook", "cpc", "spring"),
    ):
        db.add(
            Visit(
                project_id=project.id,
                visitor_id=visitor.id,
                started_at=T0 + timedelta(hours=hours),
                last_seen_at=T0 + timedelta(hours=hours),
                source=source,
                medium=medium,
                campaign=campaign,
            )
        )
    db.flush()
    return visitor


def form(db: Session, project: Project, **values: Any) -> Lead:
    arguments: dict[str, Any] = {
        "kind": "form",
        "visitor_token": SIGNER.visitor_token(PUBLIC_ID),
        "phone": "067 123 45 67",
        "now": T0 + timedelta(hours=3),
        "signer": SIGNER,
        **values,
    }
    outcome = record_lead(db, project, **arguments)
    db.commit()
    return outcome.lead


def test_a_form_lead_takes_the_latest_visits_source_and_an_e164_phone(
    db: Session, world: World
) -> None:
    project = world.ours.project
    visitor = visitor_with_visits(db, project)

    lead = form(db, project, email=" Ann@Example.COM ", name="Ann", fields={"message": "hi"})

    assert (lead.kind, lead.visitor_id, lead.phone_e164) == ("form", visitor.id, "+380671234567")
    assert (lead.source, lead.medium, lead.campaign) == ("facebook", "cpc", "spring")
    assert lead.visit_id is not None
    assert (lead.email, lead.name, lead.payload["fields"]) == (
        "ann@example.com",
        "Ann",
        {"message": "hi"},
    )
    assert db.scalar(select(RollupDirty).where(RollupDirty.project_id == project.id)) is not None


def test_a_forged_or_foreign_visitor_token_attributes_nothing(db: Session, world: World) -> None:
    visitor_with_visits(db, world.outsider.project)
    forged = SIGNER.visitor_token(PUBLIC_ID)[:-2] + "xx"

    for token in (forged, SIGNER.visitor_token(PUBLIC_ID)):
        lead = form(
            db, world.ours.project, visitor_token=token, phone=f"06712345{len(token) % 90:02d}"
        )
        assert (lead.visitor_id, lead.visit_id, lead.source) == (None, None, None)


def test_the_same_dedupe_key_or_the_same_phone_soon_after_is_the_same_lead(
    db: Session, world: World
) -> None:
    project = world.ours.project
    visitor_with_visits(db, project)
    first = record_lead(db, project, kind="form", visitor_token=None, phone="+380671234567",
                        dedupe_key="abc", now=T0)  # fmt: skip
    again = record_lead(db, project, kind="form", visitor_token=None, phone="+380501112233",
                        dedupe_key="abc", now=T0)  # fmt: skip
    back = record_lead(db, project, kind="form", visitor_token=None, phone="0671234567",
                       now=T0 + timedelta(minutes=5))  # fmt: skip
    later = record_lead(db, project, kind="form", visitor_token=None, phone="0671234567",
                        now=T0 + timedelta(minutes=30))  # fmt: skip
    callback = record_lead(db, project, kind="callback", visitor_token=None,
                           phone="0671234567", now=T0 + timedelta(minutes=31))  # fmt: skip
    db.commit()

    assert (first.created, again.created, back.created) == (True, False, False)
    assert first.lead.id == again.lead.id == back.lead.id
    assert later.created and later.lead.id != first.lead.id
    assert callback.created
    assert db.query(Lead).filter_by(project_id=project.id).count() == 3


def test_a_form_without_a_phone_is_deduplicated_by_email_or_by_visitor_and_fields(
    db: Session, world: World
) -> None:
    project = world.ours.project
    visitor_with_visits(db, project)
    by_mail = [form(db, project, phone=None, email="a@b.co") for _ in range(2)]
    by_visitor = [form(db, project, phone=None, name="X", fields={"q": "1"}) for _ in range(2)]
    other_fields = form(db, project, phone=None, name="X", fields={"q": "2"})

    assert by_mail[0].id == by_mail[1].id
    assert by_visitor[0].id == by_visitor[1].id
    assert other_fields.id != by_visitor[0].id


def test_a_form_and_a_later_call_from_the_same_phone_are_one_person(
    db: Session, world: World
) -> None:
    project = world.ours.project
    first = form(db, project)
    call_lead = Lead(project_id=project.id, kind="call", phone_e164="+380671234567",
                     created_at=T0 + timedelta(days=2))  # fmt: skip
    stranger = Lead(project_id=project.id, kind="call", phone_e164="+380501112233",
                    created_at=T0 + timedelta(days=2))  # fmt: skip
    too_late = Lead(project_id=project.id, kind="call", phone_e164="+380671234567",
                    created_at=T0 + timedelta(days=90))  # fmt: skip
    db.add_all([call_lead, stranger, too_late])
    db.flush()
    window = timedelta(days=project.unique_call_window_days)
    link_call_leads(
        db,
        [
            {
                "id": lead.id,
                "project_id": project.id,
                "phone_e164": lead.phone_e164,
                "created_at": lead.created_at,
                "window": window,
            }
            for lead in (call_lead, stranger, too_late)
        ],
    )
    db.commit()
    for lead in (call_lead, stranger, too_late):
        db.refresh(lead)

    assert person_key(call_lead) == first.id
    assert person_key(stranger) == stranger.id
    assert person_key(too_late) == too_late.id


def test_a_callback_after_a_call_joins_the_calls_person(db: Session, world: World) -> None:
    project = world.ours.project
    call_lead = Lead(project_id=project.id, kind="call", phone_e164="+380671234567",
                     created_at=T0)  # fmt: skip
    db.add(call_lead)
    db.commit()

    callback = form(db, project, kind="callback", now=T0 + timedelta(days=1))

    assert callback.person_id == call_lead.id


def test_bad_input_is_refused_with_the_field(db: Session, world: World) -> None:
    project = world.ours.project
    for values, field in (
        ({"kind": "call"}, "kind"),
        ({"phone": "12"}, "phone"),
        ({"phone": None, "email": "not-an-address"}, "email"),
    ):
        with pytest.raises(InvalidInput) as caught:
            form(db, project, **values)
        assert caught.value.field == field
    with pytest.raises(TypeError):
        record_lead(db, project, kind="form", visitor_token="x.y", phone=None)


def test_submit_form_keeps_contacts_and_allowed_fields_never_secrets(
    db: Session, world: World
) -> None:
    project = world.ours.project
    project.extra = {"forms": {"enabled": True, "allowed_fields": ["message", "utm_hidden"]}}
    visitor_with_visits(db, project)
    fields = {
        "your-name": "Ann",
        "phone": "(067) 123-45-67",
        "email": "ann@example.com",
        "message": "Call me",
        "password": "hunter2",
        "card": "4111 1111 1111 1111",
        "note": "4111111111111111",
        "company": "Acme",
    }

    result = submit_form(
        db,
        project,
        FormSubmission(
            fields=fields, visitor_token=SIGNER.visitor_token(PUBLIC_ID), submit_id="s1"
        ),
        signer=SIGNER,
        now=T0 + timedelta(hours=3),
    )
    db.commit()

    lead = result.lead
    assert result.outcome is FormOutcome.CREATED and lead is not None
    assert (lead.phone_e164, lead.email, lead.source) == (
        "+380671234567",
        "ann@example.com",
        "facebook",
    )
    assert lead.payload["fields"] == {"message": "Call me"}
    assert set(result.dropped) == {"password", "card", "note", "company"}
    assert "hunter2" not in str(lead.payload) and "4111" not in str(lead.payload)


def test_submit_form_refuses_disabled_projects_ignores_honeypots_and_contactless_forms(
    db: Session, world: World
) -> None:
    project = world.ours.project
    submission = FormSubmission(fields={"phone": "0671234567"})
    with pytest.raises(FormsDisabled):
        submit_form(db, project, submission, signer=SIGNER)
    project.extra = {"forms": {"enabled": True}}
    trapped = FormSubmission(fields={"phone": "0671234567"}, honeypot="http://spam")
    search = FormSubmission(fields={"q": "flats"})

    assert submit_form(db, project, trapped, signer=SIGNER).outcome is FormOutcome.HONEYPOT
    assert submit_form(db, project, search, signer=SIGNER).outcome is FormOutcome.NO_CONTACT
    assert db.query(Lead).filter_by(project_id=project.id).count() == 0


def test_a_typo_in_a_visitors_phone_keeps_the_lead_with_the_phone_as_written(
    db: Session, world: World
) -> None:
    project = world.ours.project
    project.extra = {"forms": {"enabled": True}}
    result = submit_form(
        db, project, FormSubmission(fields={"phone": "12345", "email": "a@b.co"}), signer=SIGNER
    )
    assert result.lead is not None and result.lead.phone_e164 is None
    assert result.lead.payload["fields"] == {"phone": "12345"}


def test_form_rate_windows_per_address_and_visitor() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(5):
        check_rate(limiter, "addr", "visitor-1", T0)
    with pytest.raises(RateLimited):
        check_rate(limiter, "addr", "visitor-1", T0)
    for index in range(4):
        check_rate(limiter, "addr", f"visitor-{index + 2}", T0)
    with pytest.raises(RateLimited):
        check_rate(limiter, "addr", "visitor-9", T0)
    check_rate(limiter, "addr", "visitor-9", T0 + timedelta(minutes=2))


def test_marking_a_form_lead_keeps_the_mark_and_its_history(db: Session, world: World) -> None:
    project = world.ours.project
    lead = form(db, project)
    for value in (True, False):
        mark_lead_target(db, project.id, lead.id, world.ours.owner.id, value, now=T0)
        db.commit()
    db.refresh(lead)

    assert lead.is_target is False
    assert [m["label"] for m in lead.payload["marks"]] == ["target", "non_target"]
    assert [x.id for x in list_leads(db, project.id, kinds=["form"])] == [lead.id]
    assert list_leads(db, world.outsider.project.id) == []
