"""Settings → Integrations, a destination's page (settings, rule, test, validate) and the
delivery log with its totals and replay, as admins, marketers and viewers see them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.deliveries.destinations import create_destination
from ringtrail.storage.models import IntegrationDestination, OutboundDelivery
from tests.conftest import PASSWORD, World
from tests.integration_fakes import SENT, fake_kinds  # noqa: F401  (fake_kinds: a fixture)
from tests.recordings.rows import add_call
from tests.web.dashboard.browser import csrf_of, log_in

SECRET = "s3cret-api-key-0123"
pytestmark = pytest.mark.usefixtures("fake_kinds")


def _member(db: Session, world: World, role: Role) -> str:
    email = f"{role.value}@acme-realty.example"
    user = create_user(db, email, PASSWORD)
    set_membership(db, user, world.ours.project, role)
    db.commit()
    return email


def _destination(db: Session, world: World, **config: Any) -> IntegrationDestination:
    row = create_destination(
        db,
        world.ours.project,
        kind="fake",
        name="Ads account",
        config={"account": "acme", "api_secret": SECRET, **config},
    )
    db.commit()
    return row


def test_the_empty_page_says_why_and_offers_the_kinds(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client)
    page = client.get(f"/p/{world.ours.project.id}/settings/integrations?lang=en")
    assert page.status_code == 200
    assert "No destinations yet: add one to send conversions to Google Ads" in page.text
    assert '<option value="fake">Fake ads</option>' in page.text
    form = client.get(f"/p/{world.ours.project.id}/settings/integrations?kind=fake&lang=en")
    assert 'name="cfg_api_secret" type="password"' in form.text
    assert '<label for="cfg_account">' in form.text and 'id="cfg_mode"' in form.text


def test_an_admin_adds_a_destination_and_the_secret_is_never_shown(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client)
    base = f"/p/{world.ours.project.id}/settings/integrations"
    token = csrf_of(client.get(f"{base}?kind=fake").text)
    fields = {"kind": "fake", "name": "Google", "cfg_account": "acme", "cfg_mode": "live"}
    short = client.post(base, data={**fields, "cfg_api_secret": "short", "csrf_token": token})
    assert short.status_code == 400 and "api_secret" in short.text
    assert 'value="acme"' in short.text and "short" not in short.text.replace("shorter", "")
    added = client.post(
        base, data={**fields, "cfg_api_secret": SECRET, "enabled": "1", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    row = db.scalars(select(IntegrationDestination)).one()
    page = client.get(f"{base}/{row.id}?lang=en")
    assert SECRET not in page.text and "A secret is stored. Leave blank to keep it." in page.text
    saved = client.post(
        f"{base}/{row.id}",
        data={"name": "Google 2", "cfg_account": "acme2", "cfg_mode": "debug", "enabled": "1",
              "cfg_api_secret": "", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    db.expire_all()
    again = db.get(IntegrationDestination, row.id)
    assert again is not None and again.name == "Google 2" and SECRET in (again.secrets or "")


def test_the_rule_form_saves_and_refuses_in_words(
    client: TestClient, db: Session, world: World
) -> None:
    row = _destination(db, world)
    log_in(client)
    path = f"/p/{world.ours.project.id}/settings/integrations/{row.id}"
    token = csrf_of(client.get(path).text)
    rule = {"count_calls": "1", "answered_only": "1", "min_talk_seconds": "30",
            "target_only": "1", "conversion_name": "Call 30s", "value_mode": "tags",
            "tag_values": "sale=500\nquote=50", "csrf_token": token}  # fmt: skip
    saved = client.post(f"{path}/rule", data=rule, follow_redirects=False)
    assert saved.status_code == 303
    db.expire_all()
    stored = db.get(IntegrationDestination, row.id)
    assert stored is not None and stored.rules["tag_values"] == {"sale": "500", "quote": "50"}
    assert stored.rules["min_talk_seconds"] == 30 and stored.rules["target_only"] is True
    bad = client.post(f"{path}/rule?lang=en", data={**rule, "tag_values": "sale"})
    assert bad.status_code == 400 and "tag=value" in bad.text


def test_send_a_test_and_validate_show_the_answer_in_words(
    client: TestClient, db: Session, world: World
) -> None:
    row = _destination(db, world, account="refuse")
    log_in(client)
    path = f"/p/{world.ours.project.id}/settings/integrations/{row.id}"
    token = csrf_of(client.get(path).text)
    tested = client.post(f"{path}/test?lang=en", data={"csrf_token": token})
    assert tested.status_code == 200 and "Test:" in tested.text
    assert "rejected" in tested.text and "the click id is unknown" in tested.text
    assert SENT and SENT[-1]["click"].startswith("TEST-GCLID-")
    validated = client.post(f"{path}/validate?lang=en", data={"csrf_token": token})
    assert "Validation:" in validated.text and "value missing" in validated.text


def test_a_marketer_sees_but_cannot_change(client: TestClient, db: Session, world: World) -> None:
    row = _destination(db, world)
    log_in(client, _member(db, world, Role.MARKETER))
    path = f"/p/{world.ours.project.id}/settings/integrations/{row.id}"
    page = client.get(f"{path}?lang=en")
    assert page.status_code == 200 and "Send a test" not in page.text
    assert "Only the project's admins and owners can change the rule." in page.text
    token = csrf_of(client.get(f"/p/{world.ours.project.id}/settings/integrations").text)
    assert client.post(f"{path}/test", data={"csrf_token": token}).status_code == 403


def test_the_log_shows_reasons_totals_masked_payloads_and_replays(
    client: TestClient, db: Session, world: World
) -> None:
    row = _destination(db, world)
    call = add_call(db, world.ours.project)
    project_id = world.ours.project.id
    for status, extra in (
        ("accepted", {}),
        ("skipped", {"reason_code": "not_target_yet", "reason": "not marked target yet"}),
        ("dead", {"reason": "the service did not answer for 24 hours"}),
    ):
        db.add(
            OutboundDelivery(
                project_id=project_id, destination=str(row.id), destination_id=row.id,
                subject_kind="call", subject_id=call.id, event_name=f"conversion.{status}",
                status=status, attempts=1, payload={"click": "abc", "phone": "+380501234567"},
                response={"ok": status == "accepted"}, **extra,
            )
        )  # fmt: skip
    db.commit()
    log_in(client, _member(db, world, Role.VIEWER))
    viewer = client.get(f"/p/{project_id}/settings/deliveries?lang=en")
    assert viewer.status_code == 200
    assert "Not marked target yet: sent when it is" in viewer.text
    assert "+380501234567" not in viewer.text and "Send again" not in viewer.text
    assert "Totals per destination and day" in viewer.text
    client.post("/logout", data={"csrf_token": csrf_of(viewer.text)})
    log_in(client)
    admin = client.get(f"/p/{project_id}/settings/deliveries?status=dead&lang=en")
    assert admin.text.count('data-status="dead"') == 1 and "Send again" in admin.text
    dead = db.scalars(select(OutboundDelivery).where(OutboundDelivery.status == "dead")).one()
    replayed = client.post(
        f"/p/{project_id}/settings/deliveries/{dead.id}/replay",
        data={"csrf_token": csrf_of(admin.text)},
        follow_redirects=False,
    )
    assert replayed.status_code == 303
    db.expire_all()
    assert db.get(OutboundDelivery, dead.id).status == "pending"  # type: ignore[union-attr]
    call_page = client.get(f"/p/{project_id}/calls/{call.id}?lang=en")
    assert 'id="deliveries"' in call_page.text and "conversion.accepted" in call_page.text
    for lang, words in (("ru", "Журнал отправок"), ("uk", "Журнал надсилань")):
        assert words in client.get(f"/p/{project_id}/settings/deliveries?lang={lang}").text


def test_the_log_without_destinations_says_why(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client)
    page = client.get(f"/p/{world.ours.project.id}/settings/deliveries?lang=en")
    assert "the project has no destinations yet" in page.text
    other = client.get(f"/p/{world.outsider.project.id}/settings/deliveries")
    assert other.status_code == 404


def test_the_consent_mode_is_chosen_for_the_whole_project(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client)
    path = f"/p/{world.ours.project.id}/settings/integrations"
    token = csrf_of(client.get(path).text)
    wrong = client.post(f"{path}/consent?lang=en", data={"consent_mode": "x", "csrf_token": token})
    assert wrong.status_code == 400 and "Choose how consent is handled" in wrong.text
    chosen = client.post(
        f"{path}/consent", data={"consent_mode": "require", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert chosen.status_code == 303
    page = client.get(f"{path}?lang=en")
    assert 'name="consent_mode" value="require" checked' in page.text
