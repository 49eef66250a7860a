"""Facts read for a batch of deliveries: visit ids, consent, tags, deal value, a signed
recording link, and the answers the destination gave before."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from ringtrail.recordings.links import verify_link
from ringtrail.services.deliveries.facts import LinkSettings, Subject, consent_of, load_facts
from ringtrail.storage.models import Deal, Lead, OutboundDelivery
from ringtrail.storage.models.base import utcnow
from tests.call_rows import add_call, add_stored_recording, add_visit, tag_call
from tests.conftest import World

LINKS = LinkSettings(secret="facts-test-secret", public_url="https://rt.example/", ttl_seconds=600)


def test_a_calls_facts_carry_its_visit_tags_deal_link_and_earlier_answers(
    db: Session, world: World
) -> None:
    project = world.ours.project
    visit = add_visit(
        db,
        project,
        gclid="Cj0-click",
        ga_client_id="123.456",
        extra={"consent": {"ad_storage": "granted"}},
    )
    call = add_call(db, project, visit_id=visit.id, is_target=True, deal_value=10.0)
    tag_call(db, call, "sale", "vip")
    recording = add_stored_recording(db, call)
    db.add(
        Deal(
            project_id=project.id,
            external_id="d1",
            call_id=call.id,
            status="won",
            revenue=Decimal("700.50"),
            currency="UAH",
        )
    )
    db.add(
        OutboundDelivery(
            project_id=project.id,
            destination="9",
            destination_id=None,
            subject_kind="call",
            subject_id=call.id,
            event_name="call.started",
            status="accepted",
            response={"id": "L-1"},
        )
    )
    db.flush()
    now = utcnow()
    facts = load_facts(db, [Subject(1, 9, "call", call.id)], LINKS, now)[1]
    assert facts.subject_kind == "call" and facts.currency == "UAH"
    assert facts.visit is not None and facts.visit.gclid == "Cj0-click"
    assert facts.consent == {"ad_storage": True}
    assert facts.tags == ("sale", "vip")
    assert facts.deal_value == Decimal("700.50")  # the won deal, not the call's own figure
    assert facts.is_target is True and facts.answered
    assert facts.recording_url is not None
    token = facts.recording_url.removeprefix("https://rt.example/recordings/")
    assert verify_link(LINKS.secret, token, now) == recording.id
    # destination_id None on the row above: only rows of destination 9 count as its answers.
    assert facts.extra["previous_responses"] == {}


def test_a_lead_without_a_visit_has_no_consent_and_a_gone_call_is_left_out(
    db: Session, world: World
) -> None:
    lead = Lead(
        project_id=world.ours.project.id,
        kind="form",
        phone_e164="+380501112233",
        created_at=utcnow(),
    )
    db.add(lead)
    db.flush()
    found = load_facts(
        db, [Subject(1, None, "lead", lead.id), Subject(2, None, "call", 999)], None, utcnow()
    )
    assert list(found) == [1]
    assert found[1].lead_kind == "form" and found[1].consent == {} and found[1].visit is None
    assert consent_of({"consent": {"ad_storage": "denied", "analytics_storage": True}}) == {
        "ad_storage": False,
        "analytics_storage": True,
    }
