"""Recordings over HTTP: signed links for project members only, streaming, ranges, uploads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.links import sign_link
from ringtrail.recordings.storage import (
    LocalRecordingStore,
    RecordingStore,
    StoredObject,
    StoreUnavailable,
)
from ringtrail.runtime import Runtime
from ringtrail.settings import Settings
from ringtrail.storage.models import Call, Recording
from ringtrail.web.app import create_app
from tests.conftest import Tenant, World
from tests.recordings.rows import AUDIO, add_call, add_recording, reload
from tests.web.api.keys import project_key


@pytest.fixture
def store(settings: Settings) -> RecordingStore:
    """The store the app uses (the settings' local directory)."""
    return make_store(settings)


def recording_url(tenant: Tenant, call_id: int) -> str:
    return f"/api/v1/projects/{tenant.project.id}/calls/{call_id}/recording"


def stored_call(db: Session, store: RecordingStore, tenant: Tenant) -> tuple[Call, Recording]:
    """A call of the tenant's project whose recording is fetched and stored."""
    call = add_call(db, tenant.project)
    recording = add_recording(
        db, call, status="stored", content_type="audio/mpeg", size_bytes=len(AUDIO)
    )
    recording.storage_key = f"p{tenant.project.id}/c{call.id}/r{recording.id}-1.mp3"
    store.put(recording.storage_key, AUDIO, "audio/mpeg")
    db.commit()
    return call, recording


def link(client: TestClient, tenant: Tenant, call_id: int, headers: dict[str, str]) -> str:
    response = client.get(recording_url(tenant, call_id), headers=headers)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def test_a_member_gets_a_short_lived_link_that_streams_the_audio(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call, recording = stored_call(db, store, world.ours)
    before = datetime.now(UTC)
    response = client.get(recording_url(world.ours, call.id), headers=world.ours.project_auth)
    after = datetime.now(UTC)
    assert response.status_code == 200
    body = response.json()
    assert body["recording_id"] == recording.id
    assert (body["status"], body["content_type"], body["duration_seconds"]) == (
        "stored",
        "audio/mpeg",
        60,
    )
    expires = datetime.fromisoformat(body["expires_at"])
    assert before < expires <= after + timedelta(seconds=900)  # RECORDING_URL_TTL_SECONDS
    assert body["url"].startswith("http://testserver/recordings/")

    audio = client.get(body["url"])  # no key, no session: the link is the permission
    assert audio.status_code == 200
    assert audio.content == AUDIO
    assert audio.headers["content-type"] == "audio/mpeg"
    assert audio.headers["accept-ranges"] == "bytes"
    assert audio.headers["cache-control"] == "private, no-store"


def test_every_role_that_may_view_calls_gets_a_link(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call, _ = stored_call(db, store, world.ours)
    for role in Role:
        assert link(client, world.ours, call.id, project_key(db, world.ours, role))


def test_another_tenant_never_gets_a_link_to_our_audio(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call, _ = stored_call(db, store, world.ours)
    ours = recording_url(world.ours, call.id)
    assert client.get(ours, headers=world.outsider.org_auth).status_code == 404
    assert client.get(ours, headers=world.outsider.project_auth).status_code == 404
    # their own project with our call's id: the call is not theirs
    theirs = recording_url(world.outsider, call.id)
    assert client.get(theirs, headers=world.outsider.project_auth).status_code == 404
    assert client.get(ours).status_code == 401


def test_no_stored_audio_is_404_saying_why(client: TestClient, world: World, db: Session) -> None:
    silent = add_call(db, world.ours.project)
    waiting = add_call(db, world.ours.project)
    add_recording(db, waiting)
    db.commit()
    auth = world.ours.project_auth
    none = client.get(recording_url(world.ours, silent.id), headers=auth)
    assert (none.status_code, none.json()["detail"]) == (404, "the call has no recording")
    pending = client.get(recording_url(world.ours, waiting.id), headers=auth)
    assert pending.status_code == 404 and "status: pending" in pending.json()["detail"]
    assert client.get(recording_url(world.ours, 999_999), headers=auth).status_code == 404


def test_a_tampered_link_is_403_and_an_expired_one_410(
    client: TestClient, world: World, db: Session, store: RecordingStore, settings: Settings
) -> None:
    call, recording = stored_call(db, store, world.ours)
    other_call, _ = stored_call(db, store, world.ours)
    url = link(client, world.ours, call.id, world.ours.project_auth)
    token = url.rsplit("/", 1)[1]
    number, expires, signature = token.split(".")
    for forged in (
        f"{recording.id + 1}.{expires}.{signature}",
        f"{number}.{int(expires) + 3600}.{signature}",
        f"{number}.{expires}.{signature[:-2]}xx",
        "not-a-token",
    ):
        assert client.get(f"/recordings/{forged}").status_code == 403, forged
    old = sign_link(
        settings.resolved_secret_key(), recording.id, datetime.now(UTC) - timedelta(seconds=1)
    )
    assert client.get(f"/recordings/{old.token}").status_code == 410
    assert other_call.id != call.id


def test_a_link_to_audio_deleted_since_is_404(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call, recording = stored_call(db, store, world.ours)
    url = link(client, world.ours, call.id, world.ours.project_auth)
    assert recording.storage_key is not None
    store.delete(recording.storage_key)
    recording.status, recording.storage_key = "deleted", None
    db.commit()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(AUDIO) - 1),
        ("bytes=-10", len(AUDIO) - 10, len(AUDIO) - 1),
        ("bytes=50-999999999", 50, len(AUDIO) - 1),
    ],
)
def test_a_byte_range_is_answered_with_206(
    client: TestClient,
    world: World,
    db: Session,
    store: RecordingStore,
    header: str,
    first: int,
    last: int,
) -> None:
    call, _ = stored_call(db, store, world.ours)
    url = link(client, world.ours, call.id, world.ours.project_auth)
    part = client.get(url, headers={"Range": header})
    assert part.status_code == 206
    assert part.content == AUDIO[first : last + 1]
    assert part.headers["content-range"] == f"bytes {first}-{last}/{len(AUDIO)}"
    assert part.headers["content-length"] == str(last - first + 1)


def test_unsatisfiable_and_multiple_ranges(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call, _ = stored_call(db, store, world.ours)
    url = link(client, world.ours, call.id, world.ours.project_auth)
    beyond = client.get(url, headers={"Range": f"bytes={len(AUDIO)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(AUDIO)}"
    several = client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status_code, several.content) == (200, AUDIO)


def test_head_tells_the_size_without_the_body(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call, _ = stored_call(db, store, world.ours)
    url = link(client, world.ours, call.id, world.ours.project_auth)
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(AUDIO))


def upload(client: TestClient, tenant: Tenant, call_id: int, body: bytes, **headers: str) -> Any:
    return client.put(
        recording_url(tenant, call_id),
        content=body,
        headers={"Content-Type": "audio/mpeg", **tenant.project_auth, **headers},
    )


def test_an_uploaded_recording_is_stored_and_served(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    response = upload(client, world.ours, call.id, AUDIO)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["size_bytes"], body["content_type"]) == (
        "stored",
        len(AUDIO),
        "audio/mpeg",
    )
    assert client.get(body["url"]).content == AUDIO
    row = db.get(Recording, body["recording_id"])
    assert row is not None and row.delete_after == call.started_at + timedelta(
        days=world.ours.project.recording_retention_days
    )


def test_an_upload_fills_a_waiting_fetch_and_replaces_older_audio(
    client: TestClient, world: World, db: Session, store: RecordingStore
) -> None:
    call = add_call(db, world.ours.project)
    waiting = add_recording(db, call)
    db.commit()
    first = upload(client, world.ours, call.id, AUDIO).json()
    assert first["recording_id"] == waiting.id
    old_key = reload(db, waiting).storage_key
    assert old_key is not None and store.get(old_key) == AUDIO

    wav = b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(100)
    second = upload(client, world.ours, call.id, wav, **{"Content-Type": "audio/wav"}).json()
    assert second["recording_id"] == waiting.id
    assert client.get(second["url"]).content == wav
    assert not store.exists(old_key)
    assert reload(db, waiting).status == "stored"


def test_uploads_are_checked_before_anything_is_stored(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.commit()
    page = upload(client, world.ours, call.id, b"<html>", **{"Content-Type": "text/html"})
    assert page.status_code == 415
    assert upload(client, world.ours, call.id, b"").status_code == 422
    viewer = project_key(db, world.ours, Role.VIEWER)
    assert upload(client, world.ours, call.id, AUDIO, **viewer).status_code == 403
    outsider = {"Authorization": world.outsider.org_auth["Authorization"]}
    assert upload(client, world.ours, call.id, AUDIO, **outsider).status_code == 404
    theirs = client.put(
        recording_url(world.outsider, call.id),
        content=AUDIO,
        headers={"Content-Type": "audio/mpeg", **world.outsider.project_auth},
    )
    assert theirs.status_code == 404
    assert db.query(Recording).filter_by(call_id=call.id).count() == 0


RECORDING_PATH = "/api/v1/projects/{project_id}/calls/{call_id}/recording"


def test_the_recording_endpoints_are_in_openapi_and_the_api_docs(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for method in ("get", "put"):
        assert paths[RECORDING_PATH][method]["security"] == [{"HTTPBearer": []}]
    assert not any(path.startswith("/recordings/") for path in paths)  # the link is no API
    reference = (Path(__file__).parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    assert f"`GET {RECORDING_PATH}`" in reference
    assert f"`PUT {RECORDING_PATH}` → `201`" in reference


class UnreachableStore(LocalRecordingStore):
    """A store that cannot be reached, like a bucket behind a broken network."""

    def stat(self, key: str) -> StoredObject | None:
        raise StoreUnavailable("S3 head: connection refused")

    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> StoredObject:
        raise StoreUnavailable("S3 put: connection refused")


def test_an_unreachable_store_is_503_not_a_crash(
    runtime: Runtime, world: World, db: Session, store: RecordingStore, tmp_path: Path
) -> None:
    call, _ = stored_call(db, store, world.ours)
    app = create_app(runtime)
    app.state.recording_store = UnreachableStore(tmp_path)
    with TestClient(app) as client:
        url = link(client, world.ours, call.id, world.ours.project_auth)
        refused = client.get(url)
        assert refused.status_code == 503
        # Whoever holds a link learns that storage is down, not where it is or why.
        assert refused.json()["detail"] == "recording storage unavailable; retry later"
        assert upload(client, world.ours, call.id, AUDIO).status_code == 503
    assert db.query(Recording).filter_by(call_id=call.id).count() == 1
