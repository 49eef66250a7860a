"""The job runner: the loop survives failures, and the web app runs it only when asked."""

from __future__ import annotations

import threading
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.jobs.runner import BackgroundJobs, JobWorker
from ringtrail.runtime import Runtime
from ringtrail.storage.models import Project
from ringtrail.web.app import create_app
from tests.recordings.audio_server import AudioServer, Reply
from tests.recordings.rows import AUDIO, T0, add_call, add_recording, reload


def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ringtrail-jobs" and t.is_alive()]


def test_a_worker_pass_fetches_due_recordings(
    runtime: Runtime, db: Session, project: Project, audio_server: AudioServer
) -> None:
    recording = add_recording(
        db, add_call(db, project), provider_url=audio_server.script("/r", Reply(body=AUDIO))
    )
    db.commit()
    report = JobWorker(runtime, clock=lambda: T0).run_pass()
    assert report is not None and report.fetch.stored == 1
    assert reload(db, recording).status == "stored"


def test_the_loop_goes_on_after_a_failing_pass(runtime: Runtime) -> None:
    stop = threading.Event()
    ticks: list[int] = []

    def clock() -> datetime:
        ticks.append(1)
        if len(ticks) == 1:
            raise RuntimeError("database down")
        stop.set()
        return T0

    JobWorker(runtime, interval=0.01, clock=clock).run(stop)
    assert len(ticks) == 2


def test_run_pass_turns_an_error_into_none(runtime: Runtime) -> None:
    def boom() -> object:
        raise RuntimeError("database down")

    assert JobWorker(runtime, clock=boom).run_pass() is None  # type: ignore[arg-type]


def test_background_jobs_start_and_stop_their_thread(runtime: Runtime) -> None:
    jobs = BackgroundJobs(runtime)
    jobs.start()
    assert jobs.running
    jobs.stop()
    assert not jobs.running


def test_the_app_runs_jobs_only_when_asked(runtime: Runtime) -> None:
    with TestClient(create_app(runtime)):
        assert job_threads() == []
    with TestClient(create_app(runtime, run_jobs=True)):
        assert len(job_threads()) == 1
    assert job_threads() == []
