"""Binotel recordings come from Binotel's API (`stats/call-record`), on SQLite and PostgreSQL.

A local server speaks the API as Binotel documents it and serves the audio behind the links it
hands out; the links expire like Binotel's (about 15 minutes; here when the test says so).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ringtrail.jobs.runner import JobReport, run_due_jobs
from ringtrail.recordings.factory import make_store
from ringtrail.runtime import Runtime
from ringtrail.settings import Settings
from ringtrail.storage.models import Project, Recording
from tests.jobs.conftest import AUDIO_HOST
from tests.recordings.rows import AUDIO, T0, add_account, add_call, add_recording, reload
from tests.telephony.binotel_api_server import BinotelApiServer, running_binotel_api

CALL_ID = "4683310794"


@pytest.fixture
def binotel_api() -> Iterator[BinotelApiServer]:
    with running_binotel_api(recordings={CALL_ID: AUDIO}) as server:
        yield server


@pytest.fixture
def settings(settings: Settings, binotel_api: BinotelApiServer) -> Settings:
    """The jobs' settings, with Binotel's API at the local server."""
    return settings.model_copy(update={"binotel_api_url": binotel_api.api_url})


def queue_binotel(
    db: Session, project: Project, api: BinotelApiServer, *, secret: str | None = None
) -> Recording:
    add_account(db, project, "binotel", api.key, secret or api.secret, recording_hosts=[AUDIO_HOST])
    call = add_call(db, project, provider="binotel")
    call.provider_call_id = CALL_ID
    recording = add_recording(db, call, provider_url=f"binotel-record:{CALL_ID}")
    db.commit()
    return recording


def run(runtime: Runtime, when: timedelta = timedelta(0)) -> JobReport:
    return run_due_jobs(runtime, T0 + when)


def test_the_recording_is_fetched_through_the_api_and_stored(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    recording = queue_binotel(db, project, binotel_api)
    assert run(runtime).fetch.stored == 1
    stored = reload(db, recording)
    assert (stored.status, stored.attempts, stored.error) == ("stored", 1, None)
    assert stored.storage_key is not None
    assert make_store(runtime.settings).get(stored.storage_key) == AUDIO
    assert binotel_api.api_requests == [
        {"generalCallID": CALL_ID, "key": binotel_api.key, "secret": binotel_api.secret}
    ]


def test_an_expired_link_is_asked_for_again_and_fetched(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    binotel_api.stale_links = 1  # the first link answers 403 "Request has expired"
    recording = queue_binotel(db, project, binotel_api)
    assert run(runtime).fetch.stored == 1
    stored = reload(db, recording)
    assert (stored.status, stored.attempts) == ("stored", 1)
    assert len(binotel_api.api_requests) == 2
    assert [link.downloads for link in binotel_api.links.values()] == [0, 1]


def test_every_try_asks_for_a_fresh_link(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    binotel_api.not_ready[CALL_ID] = 1  # Binotel has not stored the file yet
    recording = queue_binotel(db, project, binotel_api)
    assert run(runtime).fetch.retried == 1
    waiting = reload(db, recording)
    assert waiting.status == "pending"
    assert waiting.error is not None and "Call record not found" in waiting.error
    binotel_api.expire_links()  # nothing handed out before may be used again
    assert run(runtime, timedelta(minutes=1)).fetch.stored == 1
    assert len(binotel_api.api_requests) == 2


def test_wrong_credentials_are_a_refusal_with_binotels_words(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    recording = queue_binotel(db, project, binotel_api, secret="not-the-secret")
    assert run(runtime).fetch.retried == 1
    assert run(runtime, timedelta(minutes=1)).fetch.retried == 1
    assert run(runtime, timedelta(minutes=6)).fetch.failed == 1  # a refusal: three tries
    failed = reload(db, recording)
    assert failed.error is not None and "Wrong key or secret" in failed.error
    assert binotel_api.links == {}


def test_binotel_down_is_worth_waiting_for(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    binotel_api.api_status = 503
    recording = queue_binotel(db, project, binotel_api)
    assert run(runtime).fetch.retried == 1
    assert reload(db, recording).next_attempt_at == T0 + timedelta(minutes=1)
    binotel_api.api_status = 200
    assert run(runtime, timedelta(minutes=1)).fetch.stored == 1


def test_an_account_without_key_and_secret_says_so(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    call = add_call(db, project, provider="binotel")
    recording = add_recording(db, call, provider_url=f"binotel-record:{CALL_ID}")
    db.commit()
    run(runtime)
    error = reload(db, recording).error
    assert error is not None and "API key (account_ref) and secret" in error
    assert binotel_api.api_requests == []


def test_a_cabinet_link_queued_earlier_is_exchanged_through_the_api(
    runtime: Runtime, db: Session, project: Project, binotel_api: BinotelApiServer
) -> None:
    recording = queue_binotel(db, project, binotel_api)
    recording.provider_url = (
        "https://my.binotel.ua/?module=cdrs&action=generateFile"
        f"&fileName={CALL_ID}.mp3&callDate=2023-12-09_09:31"
    )
    db.commit()
    assert run(runtime).fetch.stored == 1
    assert binotel_api.api_requests[0]["generalCallID"] == CALL_ID
