"""The recording fetch job on SQLite and PostgreSQL: retries with backoff, giving up, claims,
and the hosts and addresses a fetch may reach."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.jobs.recording_fetch import (
    ABANDONED,
    FetchOutcome,
    claim_next,
    fetch_claimed,
    fetch_client,
    fetch_due_recordings,
)
from ringtrail.jobs.runner import JobReport, run_due_jobs
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.fetch import DownloadRequest, make_http_client
from ringtrail.recordings.hosts import RecordingHosts
from ringtrail.recordings.policy import BACKOFF, CLAIM_TIMEOUT, MAX_ATTEMPTS
from ringtrail.recordings.resolvers import RESOLVERS, PlainResolver, ProviderAccount
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.services.telephony_accounts import set_account
from ringtrail.storage.models import Call, Project, Recording
from ringtrail.storage.models.base import utcnow
from ringtrail.telephony.signed import sign
from tests.jobs.conftest import AUDIO_HOST
from tests.recordings.audio_server import AudioServer, Reply, running_audio_server
from tests.recordings.rows import AUDIO, T0, add_account, add_call, add_recording, reload

SERVER_ERROR = Reply(500, b"try later", "text/plain")
NOT_FOUND = Reply(404, b"no such recording", "text/plain")


@pytest.fixture
def store(runtime: Runtime) -> RecordingStore:
    """The store the settings give (a local directory in the test's data dir)."""
    return make_store(runtime.settings)


@pytest.fixture
def http(runtime: Runtime) -> Iterator[httpx.Client]:
    with fetch_client(runtime) as client:
        yield client


def queue(db: Session, project: Project | None, url: str, **values: object) -> Recording:
    recording = add_recording(db, add_call(db, project), provider_url=url, **values)
    db.commit()
    return recording


def run(runtime: Runtime, now: datetime) -> JobReport:
    return run_due_jobs(runtime, now)


def test_a_recording_is_stored_after_two_server_errors_with_the_backoff_respected(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    url = audio_server.script("/r1", SERVER_ERROR, SERVER_ERROR, Reply(body=AUDIO))
    recording = queue(db, project, url)

    assert run(runtime, T0).fetch.retried == 1
    first = reload(db, recording)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.next_attempt_at == T0 + timedelta(minutes=1)
    assert first.error is not None and "HTTP 500" in first.error

    run(runtime, T0 + timedelta(seconds=59))  # too early: not asked again
    assert audio_server.hits("/r1") == 1

    second_try = T0 + timedelta(minutes=1)
    run(runtime, second_try)
    assert reload(db, recording).next_attempt_at == second_try + timedelta(minutes=5)
    run(runtime, second_try + timedelta(minutes=4, seconds=59))
    assert audio_server.hits("/r1") == 2

    third_try = second_try + timedelta(minutes=5)
    assert run(runtime, third_try).fetch.stored == 1
    stored = reload(db, recording)
    assert (stored.status, stored.attempts, stored.error) == ("stored", 3, None)
    assert (stored.size_bytes, stored.content_type) == (len(AUDIO), "audio/mpeg")
    assert stored.fetched_at == third_try and stored.next_attempt_at is None
    call = recording.call_id
    assert stored.storage_key == f"p{project.id}/c{call}/r{recording.id}-3.mp3"
    assert make_store(runtime.settings).get(stored.storage_key) == AUDIO

    run(runtime, third_try + timedelta(days=1))
    assert audio_server.hits("/r1") == 3


def test_a_404_fails_for_good_after_three_tries_keeping_the_error(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    recording = queue(db, project, audio_server.script("/gone", NOT_FOUND))
    for at in (T0, T0 + BACKOFF[0], T0 + BACKOFF[0] + BACKOFF[1]):
        run(runtime, at)
    failed = reload(db, recording)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 3, None)
    assert failed.error is not None and "HTTP 404" in failed.error
    assert failed.storage_key is None
    run(runtime, T0 + timedelta(days=2))
    assert audio_server.hits("/gone") == 3


def test_server_errors_are_retried_on_the_whole_schedule_then_fail(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    recording = queue(db, project, audio_server.script("/down", SERVER_ERROR))
    at = T0
    for wait in (*BACKOFF, None):
        report = run(runtime, at)
        assert report.fetch.claimed == 1
        if wait is not None:
            assert reload(db, recording).next_attempt_at == at + wait
            at += wait
    failed = reload(db, recording)
    assert (failed.status, failed.attempts) == ("failed", MAX_ATTEMPTS)
    assert audio_server.hits("/down") == MAX_ATTEMPTS


def test_a_page_that_is_not_audio_is_refused(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    page = Reply(body=b"<html>sign in</html>", content_type="text/html")
    recording = queue(db, project, audio_server.script("/page", page))
    run(runtime, T0)
    refused = reload(db, recording)
    assert refused.status == "pending" and refused.error is not None
    assert "not audio" in refused.error


def test_a_crashed_workers_claim_is_taken_over_after_the_timeout(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    recording = queue(db, project, audio_server.script("/r", Reply(body=AUDIO)))
    claim = claim_next(runtime.engine, T0)  # this worker dies without a word
    assert claim is not None and claim.recording_id == recording.id
    assert reload(db, recording).status == "fetching"

    run(runtime, T0 + CLAIM_TIMEOUT - timedelta(seconds=1))
    assert audio_server.hits("/r") == 0

    assert run(runtime, T0 + CLAIM_TIMEOUT).fetch.stored == 1
    assert (reload(db, recording).status, reload(db, recording).attempts) == ("stored", 2)


def test_a_worker_whose_claim_ran_out_cannot_overwrite_the_result(
    runtime: Runtime,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    store: RecordingStore,
    http: httpx.Client,
) -> None:
    recording = queue(db, project, audio_server.script("/r", Reply(body=AUDIO)))
    slow = claim_next(runtime.engine, T0)
    assert slow is not None
    run(runtime, T0 + CLAIM_TIMEOUT)  # another worker takes over and stores it
    stored = reload(db, recording)

    outcome = fetch_claimed(runtime, store, http, slow, T0 + CLAIM_TIMEOUT + timedelta(minutes=1))
    assert outcome is FetchOutcome.LOST
    after = reload(db, recording)
    assert (after.status, after.storage_key, after.attempts) == (
        "stored",
        stored.storage_key,
        2,
    )
    assert stored.storage_key is not None and store.get(stored.storage_key) == AUDIO
    slow_key = stored.storage_key.replace("-2.mp3", "-1.mp3")
    assert not store.exists(slow_key)


def test_a_last_try_that_never_finished_fails_the_recording(
    runtime: Runtime, db: Session, project: Project
) -> None:
    recording = queue(db, project, "http://127.0.0.1:9/x", status="fetching", attempts=MAX_ATTEMPTS)
    run(runtime, T0)
    failed = reload(db, recording)
    assert (failed.status, failed.error) == ("failed", ABANDONED)


def test_a_recording_without_a_url_waits_for_an_upload(
    runtime: Runtime, db: Session, project: Project
) -> None:
    recording = queue(db, project, None)  # type: ignore[arg-type]
    assert run(runtime, T0 + timedelta(days=1)).fetch.claimed == 0
    assert reload(db, recording).status == "pending"


def test_a_call_no_project_claims_is_still_fetched(
    runtime: Runtime, db: Session, audio_server: AudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = PlainResolver(RecordingHosts((AUDIO_HOST,)))
    monkeypatch.setitem(RESOLVERS, "localpbx", local)
    call = add_call(db, None, provider="localpbx")
    url = audio_server.script("/lost", Reply(body=AUDIO))
    recording = add_recording(db, call, provider_url=url)
    db.commit()
    run(runtime, T0)
    key = reload(db, recording).storage_key
    assert key is not None and key.startswith("unassigned/")


class BearerFromAccount:
    """A provider resolver that signs the request with the project's account secret."""

    hosts = RecordingHosts()

    def resolve(
        self, url: str, account: ProviderAccount | None, http: httpx.Client
    ) -> DownloadRequest:
        assert account is not None
        return DownloadRequest(url, headers={"Authorization": f"Bearer {account.secret}"})


def test_the_providers_resolver_gets_the_projects_account(
    runtime: Runtime,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(RESOLVERS, "voiceco", BearerFromAccount())
    add_account(db, project, "voiceco", "acct-1", "s3cret", recording_hosts=[AUDIO_HOST])
    call = add_call(db, project, provider="voiceco")
    recording = add_recording(db, call, provider_url=audio_server.script("/v", Reply(body=AUDIO)))
    db.commit()
    run(runtime, T0)
    assert reload(db, recording).status == "stored"
    assert audio_server.seen[0].authorization == "Bearer s3cret"


@pytest.mark.parametrize("round_", [1, 2])
def test_parallel_workers_never_fetch_the_same_recording_twice(
    round_: int, runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    paths = [f"/race/{round_}/{n}" for n in range(24)]
    recordings = [queue(db, project, audio_server.script(p, Reply(body=AUDIO))) for p in paths]
    workers = 6
    start = threading.Barrier(workers)

    def worker(_: int) -> JobReport:
        start.wait(timeout=30)
        return run_due_jobs(runtime, T0, fetch_limit=len(paths))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        reports = list(pool.map(worker, range(workers)))

    assert sum(r.fetch.stored for r in reports) == len(paths), reports
    assert [audio_server.hits(p) for p in paths] == [1] * len(paths)
    assert {reload(db, r).attempts for r in recordings} == {1}
    assert {reload(db, r).status for r in recordings} == {"stored"}


def test_concurrent_claims_hand_out_each_due_recording_once(
    runtime: Runtime, db: Session, project: Project
) -> None:
    ids = {queue(db, project, f"http://127.0.0.1:9/{n}").id for n in range(40)}
    workers = 8
    start = threading.Barrier(workers)

    def claim_all(_: int) -> list[int]:
        start.wait(timeout=30)
        taken = []
        while (claim := claim_next(runtime.engine, T0)) is not None:
            taken.append(claim.recording_id)
        return taken

    with ThreadPoolExecutor(max_workers=workers) as pool:
        claimed = [rid for batch in pool.map(claim_all, range(workers)) for rid in batch]
    assert sorted(claimed) == sorted(ids)


# Where a fetch may go. A refusal fails the recording at its first try, says why in `error`,
# and stores nothing; the audio host is never asked.


@pytest.fixture
def strict_http() -> Iterator[httpx.Client]:
    """The fetch client of an installation that allows no other networks (the default)."""
    with make_http_client() as client:
        yield client


def refused(runtime: Runtime, db: Session, recording: Recording, *reasons: str) -> None:
    failed = reload(db, recording)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 1, None)
    assert failed.storage_key is None
    assert failed.error is not None and failed.error.startswith("refused: ")
    for reason in reasons:
        assert reason in failed.error
    assert stored_files(runtime) == []


def test_a_recording_on_a_loopback_address_is_refused_and_never_retried(
    runtime: Runtime,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    store: RecordingStore,
    strict_http: httpx.Client,
) -> None:
    recording = queue(db, project, audio_server.script("/admin", Reply(body=AUDIO)))
    report = fetch_due_recordings(runtime, store, strict_http, T0)
    assert (report.failed, report.stored) == (1, 0)
    refused(runtime, db, recording, "127.0.0.1 is a loopback address")
    fetch_due_recordings(runtime, store, strict_http, T0 + timedelta(days=1))
    assert audio_server.hits("/admin") == 0


def test_a_host_the_owner_did_not_list_is_refused(
    runtime: Runtime,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    store: RecordingStore,
    http: httpx.Client,
) -> None:
    audio_server.script("/internal", Reply(body=AUDIO))
    recording = queue(db, project, f"http://localhost:{audio_server.port}/internal")
    run(runtime, T0)
    refused(runtime, db, recording, "localhost is not an allowed recording host", "127.0.0.1")
    assert audio_server.hits("/internal") == 0


def test_a_redirect_from_an_allowed_host_to_a_loopback_address_is_refused(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    list_recording_hosts(db, project, AUDIO_HOST, "127.0.0.2")
    with running_audio_server("127.0.0.2") as inside:
        secret = inside.script("/metadata", Reply(body=AUDIO))
        start = audio_server.script("/r", Reply(302, b"", None, {"Location": secret}))
        recording = queue(db, project, start)
        run(runtime, T0)
        assert inside.hits("/metadata") == 0
    refused(runtime, db, recording, "127.0.0.2 is a loopback address")
    assert audio_server.hits("/r") == 1


def test_a_redirect_to_a_host_not_allowed_is_refused(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    inside = audio_server.script("/inside", Reply(body=AUDIO))
    elsewhere = inside.replace(AUDIO_HOST, "localhost")
    start = audio_server.script("/r", Reply(302, b"", None, {"Location": elsewhere}))
    recording = queue(db, project, start)
    run(runtime, T0)
    refused(runtime, db, recording, "localhost is not an allowed recording host", "redirect")
    assert audio_server.hits("/inside") == 0


def test_a_host_name_that_resolves_to_a_loopback_address_is_refused(
    runtime: Runtime,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    store: RecordingStore,
    strict_http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve_to_loopback(monkeypatch, "recordings.pbx.example")
    list_recording_hosts(db, project, "recordings.pbx.example")
    audio_server.script("/r.mp3", Reply(body=AUDIO))
    recording = queue(db, project, f"http://recordings.pbx.example:{audio_server.port}/r.mp3")
    fetch_due_recordings(runtime, store, strict_http, T0)
    refused(runtime, db, recording, "recordings.pbx.example resolves to a loopback address")
    assert audio_server.hits("/r.mp3") == 0


def test_a_host_name_in_a_network_the_operator_allows_is_fetched(
    runtime: Runtime,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve_to_loopback(monkeypatch, "recordings.pbx.example")
    list_recording_hosts(db, project, "*.pbx.example")
    audio_server.script("/r.mp3", Reply(body=AUDIO))
    recording = queue(db, project, f"http://recordings.pbx.example:{audio_server.port}/r.mp3")
    run(runtime, T0)
    assert reload(db, recording).status == "stored"


def test_a_signed_webhook_recording_is_fetched_only_from_the_hosts_the_owner_lists(
    runtime: Runtime,
    client: TestClient,
    db: Session,
    project: Project,
    audio_server: AudioServer,
    store: RecordingStore,
    strict_http: httpx.Client,
) -> None:
    post_recording(client, project, "pbx-1", audio_server.script("/a.mp3", Reply(body=AUDIO)))
    post_recording(client, project, "pbx-2", f"http://localhost:{audio_server.port}/a.mp3")
    run(runtime, utcnow())  # the operator allows 127.0.0.1 and the owner lists it
    by_call = recordings_by_webhook_call(db)
    assert by_call["pbx-1"].status == "stored"
    assert by_call["pbx-2"].status == "failed"
    assert by_call["pbx-2"].error is not None
    assert "localhost is not an allowed recording host" in by_call["pbx-2"].error
    assert audio_server.hits("/a.mp3") == 1

    post_recording(client, project, "pbx-3", audio_server.script("/b.mp3", Reply(body=AUDIO)))
    fetch_due_recordings(runtime, store, strict_http, utcnow())  # no network allowed
    third = recordings_by_webhook_call(db)["pbx-3"]
    assert (third.status, third.storage_key) == ("failed", None)
    assert third.error is not None and "127.0.0.1 is a loopback address" in third.error
    assert audio_server.hits("/b.mp3") == 0


def list_recording_hosts(db: Session, project: Project, *hosts: str) -> None:
    """The owner lists `hosts` on the project's `sip` account (the generic webhook's)."""
    set_account(db, project, "sip", {"config": {"recording_hosts": list(hosts)}})
    db.commit()


def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make `name` resolve to 127.0.0.1 for everyone in this process."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real(AUDIO_HOST if host == name else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def post_recording(client: TestClient, project: Project, call_id: str, url: str) -> None:
    event = {
        "event": "call.recording_ready",
        "call_id": call_id,
        "occurred_at": utcnow().isoformat(),
        "recording_url": url,
    }
    body = json.dumps(event).encode()
    sent_at = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Ringtrail-Timestamp": str(sent_at),
        "X-Ringtrail-Signature": sign(project.webhook_secret, sent_at, body),
    }
    answer = client.post(f"/hooks/v1/{project.public_key}/calls", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


def recordings_by_webhook_call(db: Session) -> dict[str, Recording]:
    db.expire_all()
    rows = db.execute(select(Call.provider_call_id, Recording).join(Recording)).all()
    return {call_ref.split(":", 1)[1]: recording for call_ref, recording in rows}


def stored_files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.recordings_dir
    assert root is not None
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
