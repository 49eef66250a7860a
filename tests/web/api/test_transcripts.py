"""/api/v1/projects/{id}/calls/{call_id}/transcript: read, import from a provider, retry;
roles and another organisation's calls; search by transcript in the calls list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.conftest import World
from tests.recordings.rows import add_call, add_recording
from tests.web.api.keys import project_key

BODY = {
    "provider": "binotel",
    "language": "en",
    "segments": [
        {"speaker": "business", "start": 2.6, "end": 4.0, "text": "How can I help?"},
        {"speaker": "caller", "start": 0.0, "end": 2.4, "text": "Hi, I need a price for a roof"},
    ],
}


def url(world: World, call_id: int, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/calls/{call_id}/transcript{tail}"


def test_a_provider_transcript_is_imported_read_and_found(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    viewer = project_key(db, world.ours, Role.VIEWER)
    missing = client.get(url(world, call.id), headers=viewer)
    assert missing.status_code == 404
    assert "no transcript" in missing.text

    created = client.put(url(world, call.id), headers=world.ours.project_auth, json=BODY)
    again = client.put(url(world, call.id), headers=world.ours.project_auth, json=BODY)
    read = client.get(url(world, call.id), headers=viewer)

    assert (created.status_code, again.status_code, read.status_code) == (201, 200, 200)
    body = read.json()
    assert (body["status"], body["source"], body["engine"], body["language"]) == (
        "done",
        "provider",
        "provider:binotel",
        "en",
    )
    assert [s["speaker"] for s in body["segments"]] == ["caller", "business"]
    listed = client.get(
        f"/api/v1/projects/{world.ours.project.id}/calls",
        headers=viewer,
        params={"transcript": "ROOF"},
    )
    assert [item["id"] for item in listed.json()["items"]] == [call.id]


def test_a_bad_transcript_is_refused_with_the_field(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    backwards = {"segments": [{"start": 3, "end": 1, "text": "no"}]}

    refused = client.put(url(world, call.id), headers=world.ours.project_auth, json=backwards)
    unknown = client.put(
        url(world, call.id), headers=world.ours.project_auth, json={**BODY, "extra": 1}
    )

    assert refused.status_code == 422 and "segments[0]" in refused.text
    assert unknown.status_code == 422


def test_roles_and_other_organisations(client: TestClient, world: World, db: Session) -> None:
    call = add_call(db, world.ours.project)
    add_recording(db, call, status="stored", storage_key="k.mp3", next_attempt_at=None)
    theirs = add_call(db, world.outsider.project)
    db.commit()
    sales = project_key(db, world.ours, Role.SALES)

    assert client.put(url(world, call.id), headers=sales, json=BODY).status_code == 403
    retried = client.post(url(world, call.id, "/retry"), headers=sales)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["source"]) == ("pending", "local")
    assert client.get(url(world, theirs.id), headers=world.ours.project_auth).status_code == 404
    outsider = client.put(url(world, call.id), headers=world.outsider.project_auth, json=BODY)
    assert outsider.status_code == 404
