"""`ringtrail serve --workers 2` as a real process on PostgreSQL: both workers answer, their
requests are summed in one scrape, a killed worker comes back, SIGHUP replaces them all,
SIGTERM stops them all.

Each test is bounded: a server that does not come up within two minutes fails the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ringtrail.cli.serve import claim_port
from ringtrail.storage import migrate
from tests.conftest import (
    SPAWNS_PROCESSES,
    create_postgres_database,
    drop_postgres_database,
    to_sqlalchemy_url,
)

pytestmark = SPAWNS_PROCESSES

TOKEN = "metrics-token-for-the-tests-only-0123456789"
# Generous for a loaded machine (the suite's other workers); a healthy start ends the wait.
STARTUP_SECONDS = 120.0
T = TypeVar("T")


@dataclass
class Server:
    """A running `serve --workers 2` and how to reach it."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def scrape(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        response = httpx.get(
            f"{self.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        response.raise_for_status()
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((sample.labels, sample.value))
        return samples

    def requests_by_worker(self) -> dict[int, float]:
        """Requests answered by each live worker, by its process id."""
        return {
            int(labels["pid"]): value
            for labels, value in self.scrape().get("ringtrail_web_process_requests", [])
        }

    def healthz_count(self) -> float:
        return sum(
            value
            for labels, value in self.scrape()["ringtrail_http_requests_total"]
            if labels["route"] == "/healthz"
        )


def wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    """Poll `check` until it returns something truthy, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def ringtrail_command() -> list[str]:
    script = Path(sys.executable).with_name("ringtrail")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from ringtrail.cli.main import main; main()"]


def start_server(database_url: str, tmp_path: Path) -> Server:
    probe = claim_port("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RINGTRAIL_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    (tmp_path / "tmp").mkdir()
    env.update(
        TMPDIR=str(tmp_path / "tmp"),
        RINGTRAIL_DATABASE_URL=database_url,
        RINGTRAIL_DATA_DIR=str(tmp_path / "data"),
        RINGTRAIL_SECRET_KEY="test-secret-key-not-for-production",
        RINGTRAIL_METRICS_TOKEN=TOKEN,
        RINGTRAIL_RUN_JOBS="false",
        RINGTRAIL_LOG_LEVEL="warning",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*ringtrail_command(), "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)

    def two_workers() -> dict[int, float] | None:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}: {log.read_text()}")
        workers = server.requests_by_worker()
        return workers if len(workers) == 2 else None

    wait_for("two workers", two_workers, STARTUP_SECONDS)
    return server


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database("ringtrail_serve")
    try:
        migrate.upgrade(to_sqlalchemy_url(url))
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="module")
def server(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(postgres_url, tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        stop_server(running)


def test_two_workers_answer_and_one_scrape_sums_the_requests_of_both(server: Server) -> None:
    before = server.requests_by_worker()
    assert server.process.pid not in before  # the supervisor answers nothing itself
    counted_before = server.healthz_count()
    sent = 0

    def both_answered() -> bool:
        nonlocal sent
        for _ in range(10):  # a new connection each, so either worker may take it
            assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
            sent += 1
        now = server.requests_by_worker()
        return sent >= 20 and all(now[pid] > before[pid] for pid in before)

    wait_for("requests answered by both workers", both_answered, 30)
    assert server.healthz_count() - counted_before == sent


def test_a_killed_worker_is_started_again(server: Server) -> None:
    victim, survivor = sorted(server.requests_by_worker())
    os.kill(victim, signal.SIGKILL)

    def replaced() -> set[int] | None:
        workers = set(server.requests_by_worker())
        return workers if len(workers) == 2 and victim not in workers else None

    workers = wait_for("the killed worker's replacement", replaced, STARTUP_SECONDS)
    assert survivor in workers
    assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200


def test_a_reload_replaces_every_worker(server: Server) -> None:
    old = set(server.requests_by_worker())
    server.process.send_signal(signal.SIGHUP)

    def all_new() -> set[int] | None:
        workers = set(server.requests_by_worker())
        return workers if len(workers) == 2 and not workers & old else None

    wait_for("two new workers after SIGHUP", all_new, STARTUP_SECONDS)
    assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200


def test_sigterm_stops_every_worker_and_removes_the_metrics_files(
    postgres_url: str, tmp_path: Path
) -> None:
    server = start_server(postgres_url, tmp_path)
    try:
        workers = sorted(server.requests_by_worker())
        assert list((tmp_path / "tmp").iterdir())  # the workers' metrics directory
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0
    finally:
        stop_server(server)
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not list((tmp_path / "tmp").iterdir())
    assert "Traceback" not in server.log.read_text()
