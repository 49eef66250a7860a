"""/api/v1 privacy: masked numbers for viewers, retention settings, erasure, the audit log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.storage.models import Call
from tests.conftest import World
from tests.web.api.keys import project_key

CALLER = "+380501234567"
MASKED = "+38050•••••67"


def _call(db: Session, world: World) -> int:
    call = Call(
        project_id=world.ours.project.id,
        provider="binotel",
        provider_call_id="masked-1",
        caller_e164=CALLER,
        dialled_e164="+380441234567",
        started_at=datetime(2025, 3, 1, 10, tzinfo=UTC),
        status="answered",
    )
    db.add(call)
    db.commit()
    return call.id


def _calls(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/calls{tail}"


def test_a_viewer_key_sees_callers_numbers_masked_everywhere(
    client: TestClient, db: Session, world: World
) -> None:
    call_id = _call(db, world)
    viewer = project_key(db, world.ours, Role.VIEWER)
    listed = client.get(_calls(world), headers=viewer).json()["items"]
    assert [item["caller"] for item in listed] == [MASKED]
    assert client.get(_calls(world, f"/{call_id}"), headers=viewer).json()["caller"] == MASKED
    exported = client.get(_calls(world), params={"format": "csv"}, headers=viewer)
    assert exported.status_code == 200 and CALLER not in exported.text
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert MASKED in rows[1]  # a phone, masked or not, cannot start a formula: no apostrophe


def test_a_viewer_cannot_uncover_a_masked_number_by_searching_its_digits(
    client: TestClient, db: Session, world: World
) -> None:
    _call(db, world)
    viewer = project_key(db, world.ours, Role.VIEWER)
    sales = project_key(db, world.ours, Role.SALES)
    hidden_digits = {"search": "12345"}  # the masked middle of +380501234567

    assert client.get(_calls(world), params=hidden_digits, headers=viewer).json()["items"] == []
    assert len(client.get(_calls(world), params=hidden_digits, headers=sales).json()["items"]) == 1
    by_caller = client.get(_calls(world), params={"caller": CALLER}, headers=viewer)
    assert by_caller.status_code == 422 and "caller" in by_caller.text


def test_a_sales_key_sees_callers_numbers_whole(
    client: TestClient, db: Session, world: World
) -> None:
    call_id = _call(db, world)
    sales = project_key(db, world.ours, Role.SALES)
    assert client.get(_calls(world), headers=sales).json()["items"][0]["caller"] == CALLER
    assert client.get(_calls(world, f"/{call_id}"), headers=sales).json()["caller"] == CALLER
    exported = client.get(_calls(world), params={"format": "csv"}, headers=sales)
    assert CALLER in exported.text


def test_retention_is_set_per_project_and_null_keeps_forever(
    client: TestClient, world: World
) -> None:
    url = f"/api/v1/projects/{world.ours.project.id}"
    auth = world.ours.project_auth
    body = {"call_retention_days": 400, "visit_retention_days": 90, "recording_retention_days": 30}
    changed = client.patch(url, headers=auth, json=body)
    assert changed.status_code == 200, changed.text
    assert {key: changed.json()[key] for key in body} == body
    assert changed.json()["transcript_retention_days"] is None
    forever = client.patch(url, headers=auth, json={"recording_retention_days": None})
    assert forever.json()["recording_retention_days"] is None
    assert forever.json()["call_retention_days"] == 400
    refused = client.patch(url, headers=auth, json={"visit_retention_days": 0})
    assert refused.status_code == 422


def test_an_admin_erases_a_caller_and_a_second_request_finds_nothing(
    client: TestClient, db: Session, world: World
) -> None:
    _call(db, world)
    url = f"/api/v1/projects/{world.ours.project.id}/erasures"
    first = client.post(url, headers=world.ours.project_auth, json={"phone": "050 123 4567"})
    assert first.status_code == 200, first.text
    assert first.json()["removed"]["calls"] == 1 and not first.json()["nothing_left"]
    second = client.post(url, headers=world.ours.project_auth, json={"phone": CALLER})
    assert second.json() == {
        "project_id": world.ours.project.id,
        "removed": {},
        "nothing_left": True,
    }
    bad = client.post(url, headers=world.ours.project_auth, json={"phone": "no"})
    assert bad.status_code in (400, 422)
    marketer = project_key(db, world.ours, Role.MARKETER)
    assert client.post(url, headers=marketer, json={"phone": CALLER}).status_code == 403
    other = client.post(
        f"/api/v1/projects/{world.ours.project.id}/erasures",
        headers=world.outsider.org_auth,
        json={"phone": CALLER},
    )
    assert other.status_code == 404


def test_every_kind_of_change_is_in_the_audit_log(
    client: TestClient, db: Session, world: World
) -> None:
    project = world.ours.project
    colleague = create_user(db, "colleague@acme-realty.example", "correct horse battery")
    set_membership(db, colleague, world.outsider.project, Role.VIEWER)
    db.commit()
    base = f"/api/v1/projects/{project.id}"
    auth = world.ours.project_auth
    assert client.patch(base, headers=auth, json={"grace_minutes": 5}).status_code == 200
    number = client.post(f"{base}/numbers", headers=auth, json={"number": "+380442000001"})
    assert number.status_code == 201, number.text
    assert client.post(f"{base}/pools", headers=auth, json={"name": "Ads"}).status_code == 201
    rule = client.post(f"{base}/source-rules", headers=auth, json={"name": "R", "source": "x"})
    assert rule.status_code == 201, rule.text
    key = client.post(f"{base}/api-keys", headers=auth, json={"name": "crm", "role": "viewer"})
    assert key.status_code == 201, key.text
    assert client.delete(f"{base}/api-keys/{key.json()['id']}", headers=auth).status_code == 204
    telephony = client.put(
        f"{base}/telephony/binotel", headers=auth, json={"account_ref": "k1", "secret": "s3cret"}
    )
    assert telephony.status_code in (200, 201), telephony.text
    owner_email = world.ours.owner.email
    member = client.post(
        f"{base}/members",
        headers=world.ours.org_auth,
        json={"email": owner_email, "role": "viewer"},
    )
    assert member.status_code == 409  # already the owner: no entry for a refused change

    page = client.get(f"{base}/audit-log", headers=auth)
    assert page.status_code == 200, page.text
    entries = page.json()["items"]
    actions = {entry["action"] for entry in entries}
    assert {
        "project.update",
        "number.create",
        "pool.create",
        "source_rule.create",
        "api_key.create",
        "api_key.revoke",
        "telephony_account.create",
    } <= actions
    update = next(entry for entry in entries if entry["action"] == "project.update")
    assert update["changes"] == {"grace_minutes": {"old": 15, "new": 5}}
    assert update["actor_kind"] == "api_key"
    account = next(entry for entry in entries if entry["action"] == "telephony_account.create")
    assert account["changes"]["secret"] == {"old": "(changed)", "new": "(changed)"}
    assert "s3cret" not in page.text
    viewer = project_key(db, world.ours, Role.VIEWER)
    assert client.get(f"{base}/audit-log", headers=viewer).status_code == 403
    assert client.get(f"{base}/audit-log", headers=world.outsider.org_auth).status_code == 404
    short = client.get(f"{base}/audit-log", headers=auth, params={"limit": 2}).json()
    older = client.get(
        f"{base}/audit-log", headers=auth, params={"limit": 2, "before": short["next_before"]}
    ).json()
    assert older["items"][0]["id"] < short["items"][-1]["id"]
