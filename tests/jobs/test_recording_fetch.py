"""The recording fetch job on SQLite and PostgreSQL: retries with backoff, giving up, claims."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from ringtrail.jobs.recording_fetch import (
    ABANDONED,
    FetchOutcome,
    claim_next,
    fetch_claimed,
)
from ringtrail.jobs.runner import JobReport, run_due_jobs
from ringtrail.recordings.factory import make_store
from ringtrail.recordings.fetch import DownloadRequest, make_http_client
from ringtrail.recordings.policy import BACKOFF, CLAIM_TIMEOUT, MAX_ATTEMPTS
from ringtrail.recordings.resolvers import RESOLVERS, ProviderAccount
from ringtrail.recordings.storage import RecordingStore
from ringtrail.runtime import Runtime
from ringtrail.storage.models import Project, Recording
from tests.recordings.audio_server import AudioServer, Reply
from tests.recordings.rows import AUDIO, T0, add_account, add_call, add_recording, reload

SERVER_ERROR = Reply(500, b"try later", "text/plain")
NOT_FOUND = Reply(404, b"no such recording", "text/plain")


@pytest.fixture
def store(runtime: Runtime) -> RecordingStore:
    """The store the settings give (a local directory in the test's data dir)."""
    return make_store(runtime.settings)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_http_client() as client:
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
    runtime: Runtime, db: Session, audio_server: AudioServer
) -> None:
    recording = queue(db, None, audio_server.script("/lost", Reply(body=AUDIO)))
    run(runtime, T0)
    key = reload(db, recording).storage_key
    assert key is not None and key.startswith("unassigned/")


class BearerFromAccount:
    """A provider resolver that signs the request with the project's account secret."""

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
    add_account(db, project, "voiceco", "acct-1", "s3cret")
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
