"""`ringtrail demo`: a fresh demo database, and a real process that is ready within 30 s."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ringtrail.demo.catalog import DEMO_EMAIL, DEMO_PASSWORD
from ringtrail.storage.db import make_engine
from ringtrail.storage.models import Call, User
from tests.cli.conftest import Invoke

READY_WITHIN_SECONDS = 30
Launch = Callable[..., "subprocess.Popen[bytes]"]


def _count(database: Path, model: type[Call] | type[User]) -> int:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()


def test_demo_without_serving_builds_the_database_and_prints_the_login(
    invoke: Invoke, tmp_path: Path
) -> None:
    result = invoke("demo", "--no-serve", "--data-dir", str(tmp_path / "demo"), "--days", "20")
    assert result.exit_code == 0, result.output
    assert DEMO_EMAIL in result.stdout and DEMO_PASSWORD in result.stdout
    assert "http://127.0.0.1:8000/login" in result.stdout
    assert _count(tmp_path / "demo" / "demo.db", Call) > 0


def test_demo_recreates_its_database_each_time(invoke: Invoke, tmp_path: Path) -> None:
    args = ("demo", "--no-serve", "--data-dir", str(tmp_path / "demo"), "--days", "10")
    assert invoke(*args).exit_code == 0
    first = _count(tmp_path / "demo" / "demo.db", Call)
    assert invoke(*args).exit_code == 0
    assert _count(tmp_path / "demo" / "demo.db", User) == 3
    assert _count(tmp_path / "demo" / "demo.db", Call) == first


def test_demo_defaults_to_a_folder_in_the_data_dir(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("demo", "--no-serve", "--days", "5")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "demo" / "demo.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ringtrail_command() -> list[str]:
    script = Path(sys.executable).with_name("ringtrail")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ringtrail.cli.main"]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start `ringtrail <args>` as a real process; it is stopped when the test ends."""
    processes: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "RINGTRAIL_DATA_DIR": str(tmp_path / "data"),
        "RINGTRAIL_DATABASE_URL": "",
        "RINGTRAIL_REDIS_URL": "",
    }

    def _launch(*args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*_ringtrail_command(), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield _launch
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> float:
    began = time.monotonic()
    while time.monotonic() - began < READY_WITHIN_SECONDS:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the process exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no healthy answer within {READY_WITHIN_SECONDS} s")


def test_demo_process_is_healthy_within_30_seconds_and_serves_the_login_page(
    launch: Launch, tmp_path: Path
) -> None:
    port = _free_port()
    args = ("demo", "--port", str(port), "--data-dir", str(tmp_path / "demo"))
    process = launch(*args)
    base = f"http://127.0.0.1:{port}"
    assert _wait_until_healthy(base, process) < READY_WITHIN_SECONDS
    login = httpx.get(f"{base}/login", timeout=5)
    assert login.status_code == 200
    assert 'type="password"' in login.text
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    output = process.stdout.read().decode() if process.stdout else ""
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_serve_process_on_the_embedded_default_migrates_and_answers(launch: Launch) -> None:
    port = _free_port()
    process = launch("serve", "--port", str(port))
    assert _wait_until_healthy(f"http://127.0.0.1:{port}", process) < READY_WITHIN_SECONDS


def test_demo_recordings_play_through_a_signed_link(invoke: Invoke, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from ringtrail.demo.audio import demo_recording_wav
    from ringtrail.recordings.links import issue_link
    from ringtrail.runtime import bootstrap
    from ringtrail.settings import Settings
    from ringtrail.storage.models import Recording
    from ringtrail.web.app import create_app

    directory = tmp_path / "demo"
    assert invoke("demo", "--no-serve", "--data-dir", str(directory), "--days", "10").exit_code == 0
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'demo.db'}")
    runtime = bootstrap(settings)
    with runtime.sessions() as db:
        recording = db.scalars(select(Recording).where(Recording.status == "stored")).first()
    assert recording is not None
    link = issue_link(settings.resolved_secret_key(), recording.id, datetime.now(UTC), 60)
    with TestClient(create_app(runtime)) as client:
        response = client.get(f"/recordings/{link.token}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("audio/wav")
    assert response.content == demo_recording_wav()
