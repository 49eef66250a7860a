"""SIGKILL the real `ringtrail worker` mid-delivery, start it again: every event reaches every
destination exactly once (the platforms dedupe by the destination's own key, which the
restarted worker sends again unchanged for the deliveries the dead one left claimed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.deliveries.enqueue import note_call_event
from ringtrail.settings import Settings
from ringtrail.storage import migrate
from ringtrail.storage.models import OutboundDelivery
from ringtrail.storage.models.base import utcnow
from tests.call_rows import add_call
from tests.conftest import (
    SPAWNS_PROCESSES,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    to_sqlalchemy_url,
)
from tests.services.deliveries import fake_sink
from tests.services.deliveries.conftest import add_sink
from tests.services.deliveries.fake_sink import Sink

pytestmark = SPAWNS_PROCESSES

ROOT = Path(__file__).resolve().parents[3]
CALLS = 30
EVENTS_PER_CALL = 3  # call.started, call.ended, conversion
SECRET = "kill-test-secret-key-not-for-production"


@pytest.fixture
def pg_runtime(tmp_path: Path) -> Iterator[Runtime]:
    url = create_postgres_database("ringtrail_kill")
    try:
        migrate.upgrade(to_sqlalchemy_url(url))
        runtime = bootstrap(
            Settings(database_url=url, data_dir=tmp_path / "data", secret_key=SECRET)
        )
        try:
            yield runtime
        finally:
            runtime.close()
    finally:
        drop_postgres_database(url)


def start_worker(runtime: Runtime, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RINGTRAIL_DATABASE_URL": runtime.settings.database_url,
        "RINGTRAIL_SECRET_KEY": SECRET,
        "RINGTRAIL_DATA_DIR": str(tmp_path / "worker-data"),
        "RINGTRAIL_DELIVERY_BATCH_SIZE": "8",
        "RINGTRAIL_DELIVERY_CONCURRENCY": "8",
        "RINGTRAIL_DELIVERY_TIMEOUT_SECONDS": "1",
        "RINGTRAIL_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.services.deliveries.worker_main",
            "worker",
            "--interval",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("ab"),
    )


def count(runtime: Runtime, status: str) -> int:
    with runtime.sessions() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(OutboundDelivery)
                .where(OutboundDelivery.status == status)
            )
            or 0
        )


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_nothing(
    pg_runtime: Runtime, tmp_path: Path
) -> None:
    fake_sink.register()
    try:
        with fake_sink.running_sink() as first, fake_sink.running_sink() as second:
            run(pg_runtime, tmp_path, [first, second])
    finally:
        fake_sink.unregister()


def run(runtime: Runtime, tmp_path: Path, sinks: list[Sink]) -> None:
    with runtime.sessions() as db:
        tenant = make_tenant(db, "Kill Test")
        for sink in sinks:
            add_sink(db, tenant.project, sink)
        now = utcnow()
        for _ in range(CALLS):
            note_call_event(db, add_call(db, tenant.project), "ended", now)
        db.commit()
    total = CALLS * EVENTS_PER_CALL * len(sinks)
    for sink in sinks:
        sink.delay = 0.3  # slow: the kill lands while requests are in flight
    worker = start_worker(runtime, tmp_path)
    try:
        wait_for(
            lambda: sum(s.requests for s in sinks) >= 16 and any(s.in_flight for s in sinks),
            60,
            "the worker to be mid-delivery",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    left_claimed = count(runtime, "sending")
    assert left_claimed > 0, "the kill should have left deliveries claimed"
    assert count(runtime, "accepted") < total
    for sink in sinks:
        sink.delay = 0
    restarted = start_worker(runtime, tmp_path)
    try:
        wait_for(lambda: count(runtime, "accepted") == total, 90, "every delivery accepted")
    finally:
        restarted.send_signal(signal.SIGTERM)
        try:
            restarted.wait(20)
        except subprocess.TimeoutExpired:
            restarted.kill()
    with runtime.sessions() as db:
        rows = list(db.scalars(select(OutboundDelivery)))
    expected = {row.dedupe_key for row in rows}
    assert len(expected) == CALLS * EVENTS_PER_CALL
    raw_requests = 0
    for sink in sinks:
        assert set(sink.events) == expected  # every one arrived, each key once
        assert len(sink.events) == CALLS * EVENTS_PER_CALL
        raw_requests += sink.requests
    # Requests the dead worker had in flight were sent again; the platforms dropped repeats.
    print(
        f"kill test: {total} deliveries, {raw_requests} requests, "
        f"{left_claimed} left claimed by the killed worker"
    )
    assert raw_requests >= total
