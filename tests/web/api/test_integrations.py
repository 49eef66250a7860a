"""/api/v1/projects/{id}/integrations and .../deliveries: destinations with write-only secrets,
conversion rules, a test send and validation, and the delivery log with its totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.storage.models import IntegrationDestination, OutboundDelivery
from tests.conftest import World
from tests.integration_fakes import SENT, fake_kinds  # noqa: F401  (fake_kinds: a fixture)
from tests.recordings.rows import add_call
from tests.web.api.keys import project_key

SECRET = "s3cret-api-key-0123"
pytestmark = pytest.mark.usefixtures("fake_kinds")


def url(world: World, tail: str = "", base: str = "integrations") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/{base}{tail}"


def add(client: TestClient, world: World, **body: Any) -> dict[str, Any]:
    payload = {
        "kind": "fake",
        "name": "Ads account",
        "config": {"account": "acme", "api_secret": SECRET},
        **body,
    }
    response = client.post(url(world), headers=world.ours.project_auth, json=payload)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def delivery(
    db: Session, world: World, destination_id: int, subject_id: int, **values: Any
) -> OutboundDelivery:
    row = OutboundDelivery(
        project_id=world.ours.project.id,
        destination=str(destination_id),
        destination_id=destination_id,
        subject_kind=values.pop("subject_kind", "call"),
        subject_id=subject_id,
        event_name=values.pop("event_name", "conversion"),
        payload={"click": "abc", "phone": "+380501234567"},
        **values,
    )
    db.add(row)
    db.commit()
    return row


def test_kinds_list_each_setting_with_secrets_as_passwords(
    client: TestClient, world: World
) -> None:
    response = client.get(url(world, "/kinds"), headers=world.ours.project_auth)
    assert response.status_code == 200
    kinds = {kind["kind"]: kind for kind in response.json()}
    fake = kinds["fake"]
    assert fake["can_validate"] is True and kinds["fake_plain"]["can_validate"] is False
    fields = {field["name"]: field for field in fake["fields"]}
    assert fields["api_secret"]["input"] == "password"
    assert fields["mode"]["input"] == "select" and fields["mode"]["choices"] == ["live", "debug"]
    assert fields["hash_phones"]["input"] == "checkbox" and fields["batch_size"]["default"] == 10


def test_a_destination_keeps_its_secret_write_only(
    client: TestClient, world: World, db: Session
) -> None:
    created = add(client, world)
    assert SECRET not in str(created) and created["config"]["account"] == "acme"
    assert created["config"]["api_secret"] not in ("", SECRET)
    auth = world.ours.project_auth
    listed = client.get(url(world), headers=auth)
    assert SECRET not in listed.text and listed.json()[0]["id"] == created["id"]
    # a change without the secret keeps it
    changed = client.patch(
        url(world, f"/{created['id']}"),
        headers=auth,
        json={"name": "Renamed", "config": {"account": "acme2", "mode": "debug"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Renamed" and changed.json()["config"]["mode"] == "debug"
    row = db.get(IntegrationDestination, created["id"])
    assert row is not None and SECRET in (row.secrets or "")
    assert SECRET not in str(row.config)


def test_bad_settings_are_refused_naming_the_field(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    short = client.post(
        url(world),
        headers=auth,
        json={"kind": "fake", "name": "x", "config": {"account": "a", "api_secret": "short"}},
    )
    assert short.status_code == 422 and "api_secret" in short.text
    unknown = client.post(url(world), headers=auth, json={"kind": "fax", "name": "x"})
    assert unknown.status_code == 404 and "fax" in unknown.text
    created = add(client, world)
    nulls = client.patch(url(world, f"/{created['id']}"), headers=auth, json={"name": None})
    assert nulls.status_code == 422


def test_the_conversion_rule_is_replaced_and_checked(client: TestClient, world: World) -> None:
    created = add(client, world)
    auth = world.ours.project_auth
    rule = {"target_only": True, "min_talk_seconds": 30, "value_mode": "fixed", "fixed_value": 250}
    response = client.put(url(world, f"/{created['id']}/rule"), headers=auth, json=rule)
    assert response.status_code == 200, response.text
    rules = response.json()["rules"]
    assert rules["target_only"] is True and rules["fixed_value"] == "250"
    missing = client.put(
        url(world, f"/{created['id']}/rule"), headers=auth, json={"value_mode": "fixed"}
    )
    assert missing.status_code == 422 and "fixed_value" in missing.text


def test_consent_mode_is_a_project_setting(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    assert client.get(url(world, "/consent"), headers=auth).json() == {"consent_mode": "ignore"}
    put = client.put(url(world, "/consent"), headers=auth, json={"consent_mode": "require"})
    assert put.json() == {"consent_mode": "require"}
    wrong = client.put(url(world, "/consent"), headers=auth, json={"consent_mode": "maybe"})
    assert wrong.status_code == 422


def test_a_test_sends_a_sample_through_the_destination(client: TestClient, world: World) -> None:
    created = add(client, world)
    auth = world.ours.project_auth
    response = client.post(url(world, f"/{created['id']}/test"), headers=auth)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outcome"] == "accepted" and answer["ok"] is True
    assert SENT[-1]["click"].startswith("TEST-GCLID-")
    assert answer["payload"]["phone"] == "***"
    refused = add(
        client, world, name="Refusing", config={"account": "refuse", "api_secret": SECRET}
    )
    answer = client.post(url(world, f"/{refused['id']}/test"), headers=auth).json()
    assert (answer["outcome"], answer["reason"]) == ("rejected", "the click id is unknown")


def test_validation_only_where_the_kind_has_it(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    fake = add(client, world)
    rule = {"value_mode": "fixed", "fixed_value": 10}
    client.put(url(world, f"/{fake['id']}/rule"), headers=auth, json=rule)
    valid = client.post(url(world, f"/{fake['id']}/validate"), headers=auth)
    assert valid.status_code == 200 and valid.json()["outcome"] == "accepted"
    plain = add(client, world, kind="fake_plain", name="CRM")
    refused = client.post(url(world, f"/{plain['id']}/validate"), headers=auth)
    assert refused.status_code == 409 and "no validation step" in refused.text


def test_the_log_filters_pages_and_masks(client: TestClient, world: World, db: Session) -> None:
    created = add(client, world)
    call = add_call(db, world.ours.project)
    db.commit()
    for n in range(3):
        delivery(db, world, created["id"], call.id + n, status="accepted", attempts=1)
    delivery(
        db, world, created["id"], call.id, event_name="conversion.update.1", status="skipped",
        reason_code="no_click_id", reason="no gclid: the visit came from organic search",
    )  # fmt: skip
    auth = world.ours.project_auth
    page = client.get(url(world, "?limit=2", "deliveries"), headers=auth).json()
    assert len(page["items"]) == 2 and page["next_before"] is not None
    rest = client.get(url(world, f"?before={page['next_before']}", "deliveries"), headers=auth)
    assert len(rest.json()["items"]) == 2
    skipped = client.get(url(world, "?status=skipped", "deliveries"), headers=auth).json()
    assert [item["reason"] for item in skipped["items"]] == [
        "no gclid: the visit came from organic search"
    ]
    of_call = client.get(url(world, f"/{call.id}/deliveries", "calls"), headers=auth).json()
    assert len(of_call) == 2 and all(item["payload"]["phone"] == "***" for item in of_call)
    assert "+380501234567" not in client.get(url(world, "", "deliveries"), headers=auth).text
    filtered = client.get(url(world, f"?call_id={call.id}", "deliveries"), headers=auth).json()
    assert len(filtered["items"]) == 2
    today = datetime.now(UTC).date()
    totals = client.get(
        url(world, f"/totals?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}",
            "deliveries"),
        headers=auth,
    ).json()  # fmt: skip
    assert sum(row["total"] for row in totals) == 4
    assert sum(row["counts"].get("accepted", 0) for row in totals) == 3


def test_replay_queues_a_dead_delivery_again_and_refuses_an_accepted_one(
    client: TestClient, world: World, db: Session
) -> None:
    created = add(client, world)
    dead = delivery(db, world, created["id"], 1, status="dead", attempts=8, reason="timed out")
    sent = delivery(db, world, created["id"], 2, status="accepted", attempts=1)
    auth = world.ours.project_auth
    again = client.post(url(world, f"/{dead.id}/replay", "deliveries"), headers=auth)
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
    refused = client.post(url(world, f"/{sent.id}/replay", "deliveries"), headers=auth)
    assert refused.status_code == 409 and "accepted" in refused.text


def test_roles_and_tenants(client: TestClient, world: World, db: Session) -> None:
    created = add(client, world)
    viewer = project_key(db, world.ours, Role.VIEWER)
    marketer = project_key(db, world.ours, Role.MARKETER)
    assert client.get(url(world, "", "deliveries"), headers=viewer).status_code == 200
    assert client.get(url(world), headers=viewer).status_code == 403
    assert client.get(url(world), headers=marketer).status_code == 200
    assert client.post(url(world, f"/{created['id']}/test"), headers=marketer).status_code == 403
    assert client.delete(url(world, f"/{created['id']}"), headers=marketer).status_code == 403
    outsider = world.outsider.org_auth
    assert client.get(url(world), headers=outsider).status_code == 404
    theirs = f"/api/v1/projects/{world.outsider.project.id}/integrations/{created['id']}"
    assert client.get(theirs, headers=outsider).status_code == 404
    auth = world.ours.project_auth
    assert client.delete(url(world, f"/{created['id']}"), headers=auth).status_code == 204
    assert client.get(url(world), headers=auth).json() == []
