"""`ringtrail worker`: one pass with --once, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.accounts import create_user, get_or_create_organization
from ringtrail.services.projects import create_project
from ringtrail.storage.models.base import utcnow
from tests.cli.conftest import Invoke
from tests.recordings.audio_server import AudioServer, Reply, running_audio_server
from tests.recordings.rows import AUDIO, add_account, add_call, add_recording, reload


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    with running_audio_server() as server:
        yield server


def test_worker_once_fetches_what_is_due_and_reports_it(
    backend_invoke: Invoke, db: Session, audio_server: AudioServer
) -> None:
    organization = get_or_create_organization(db, "Worker Co")
    owner = create_user(db, "owner@worker.example", "correct horse battery")
    project = create_project(db, organization, "Worker site", owner=owner)
    add_account(db, project, "sip", "pbx", "pbx-secret", recording_hosts=["127.0.0.1"])
    call = add_call(db, project, started_at=utcnow())
    recording = add_recording(
        db,
        call,
        provider_url=audio_server.script("/r.mp3", Reply(body=AUDIO)),
        next_attempt_at=utcnow(),
    )
    db.commit()

    # The audio host is on 127.0.0.1: only the operator's setting lets a fetch reach it.
    result = backend_invoke(
        "worker", "--once", RINGTRAIL_RECORDING_FETCH_ALLOWED_NETWORKS="127.0.0.1/32"
    )
    assert result.exit_code == 0, result.output
    assert "1 recording(s) stored" in result.stderr
    assert "month(s), visits rolled up for" in result.stderr
    assert reload(db, recording).status == "stored"


def test_worker_help_names_its_options(invoke: Invoke) -> None:
    result = invoke("worker", "--help")
    assert result.exit_code == 0
    assert "--interval" in result.output and "--once" in result.output
