"""End to end: real calls through Kamailio (deploy/kamailio/) into Ringtrail, none lost.

SIPp places calls to a tracking number through Kamailio, which relays them to a SIPp "PBX"
and publishes events to RabbitMQ; `ringtrail sip-events` runs as its own process, stopped
and started again the way a deployment would, and the calls are read back from the
database: an answered call, a busy call, and a call placed while Ringtrail was down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.tracking import add_number
from ringtrail.storage.models import Call
from tests.conftest import SPAWNS_PROCESSES, World
from tests.telephony.sip_rig import (
    AMQP_URL,
    CALLER,
    Pbx,
    TcpProxy,
    make_scenarios,
    place_call,
    private_queue,
    queue_consumers,
    queue_depth,
    run_kamailio,
    stop_process,
    wait_for,
)

pytestmark = SPAWNS_PROCESSES

TRACKING_NUMBER = "+380441234567"
# A fresh `ringtrail sip-events` imports the whole app before it consumes, and finishes its
# batch before it exits on SIGTERM: seconds on a quiet machine, far more on a loaded one (the
# suite's other workers). The waits end as soon as it is up, or gone.
STARTUP_SECONDS = 120.0


@pytest.fixture
def flyer_number(db: Session, world: World) -> None:
    add_number(
        db,
        world.ours.project,
        {"number": TRACKING_NUMBER, "kind": "static", "source": "flyer", "medium": "offline"},
    )
    db.commit()


@pytest.fixture
def queue() -> Iterator[str]:
    with private_queue("ringtrail-e2e") as name:
        yield name


@pytest.fixture
def scenarios(tmp_path: Path) -> dict[str, Path]:
    return make_scenarios(tmp_path)


@pytest.fixture
def pbx(scenarios: dict[str, Path]) -> Iterator[Pbx]:
    line = Pbx(scenarios)
    try:
        yield line
    finally:
        line.stop()


@pytest.fixture
def ringtrail_env(database_url: str, tmp_path: Path, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "RINGTRAIL_DATABASE_URL": database_url,
        "RINGTRAIL_DATA_DIR": str(tmp_path / "data"),
        "RINGTRAIL_SECRET_KEY": "test-secret-key-not-for-production",
        "RINGTRAIL_REDIS_URL": "",
        "RINGTRAIL_AMQP_URL": AMQP_URL,
        "RINGTRAIL_SIP_EVENTS_QUEUE": queue,
        "RINGTRAIL_LOG_LEVEL": "info",
    }


class Ringtrail:
    """`ringtrail sip-events` as a separate process that can be stopped and started."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ringtrail.cli.main", "sip-events"],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        queue = self.env["RINGTRAIL_SIP_EVENTS_QUEUE"]
        wait_for(
            "ringtrail sip-events to consume",
            lambda: self._consuming(queue),
            timeout=STARTUP_SECONDS,
        )

    def _consuming(self, queue: str) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"ringtrail sip-events exited:\n{self.log.read_text()[-3000:]}")
        return queue_consumers(queue) > 0

    def stop(self) -> int | None:
        if self.process is None:
            return None
        code = stop_process(self.process, timeout=STARTUP_SECONDS)  # SIGKILL only if stuck
        self.process = None
        return code


@pytest.fixture
def ringtrail(ringtrail_env: dict[str, str], tmp_path: Path) -> Iterator[Ringtrail]:
    service = Ringtrail(ringtrail_env, tmp_path / "sip-events.log")
    try:
        yield service
    finally:
        service.stop()


def finished_call(db: Session, call_id: str) -> Call | None:
    db.expire_all()
    call = db.scalar(select(Call).where(Call.provider_call_id == call_id))
    return call if call is not None and call.ended_at is not None else None


def test_answered_busy_and_down_time_calls_all_arrive_with_status_duration_and_source(
    db: Session,
    flyer_number: None,
    queue: str,
    scenarios: dict[str, Path],
    pbx: Pbx,
    ringtrail: Ringtrail,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:8]
    answered_id, busy_id, offline_id = (f"e2e-{run}-{name}" for name in ("ok", "busy", "down"))
    with run_kamailio(tmp_path, pbx_port=pbx.port, queue=queue) as kamailio:
        ringtrail.start()

        pbx.start("uas")
        done = place_call(scenarios, kamailio.port, call_id=answered_id, talk_ms=3000)
        assert done.returncode == 0, done.stdout[-2000:]
        wait_for("the answered call", lambda: finished_call(db, answered_id))

        pbx.start("uas_busy")
        done = place_call(scenarios, kamailio.port, call_id=busy_id, busy=True)
        assert done.returncode == 0, done.stdout[-2000:]
        wait_for("the busy call", lambda: finished_call(db, busy_id))

        assert ringtrail.stop() == 0  # SIGTERM is a clean stop
        pbx.start("uas")
        done = place_call(scenarios, kamailio.port, call_id=offline_id, talk_ms=1000)
        assert done.returncode == 0, done.stdout[-2000:]
        wait_for("three events queued while down", lambda: queue_depth(queue) == 3)
        assert finished_call(db, offline_id) is None

        ringtrail.start()
        wait_for("the call made while down", lambda: finished_call(db, offline_id))
        assert "ERROR" not in kamailio.log_text()

    answered, busy, offline = (finished_call(db, cid) for cid in (answered_id, busy_id, offline_id))
    assert answered is not None and busy is not None and offline is not None
    for call in (answered, busy, offline):
        assert call.provider == "sip"
        assert call.dialled_e164 == TRACKING_NUMBER
        assert call.caller_e164 == f"+{CALLER}"
        assert (call.source, call.medium) == ("flyer", "offline")
    assert answered.status == "answered"
    assert answered.talk_seconds in (3, 4)
    assert answered.duration_seconds in (3, 4)
    assert busy.status == "busy"
    assert busy.talk_seconds == 0
    assert busy.duration_seconds in (0, 1)
    assert offline.status == "answered"
    assert offline.talk_seconds in (1, 2)
    assert queue_depth(queue) == 0


def test_events_kamailio_could_not_publish_are_logged_and_replayed(
    db: Session,
    flyer_number: None,
    queue: str,
    scenarios: dict[str, Path],
    pbx: Pbx,
    ringtrail_env: dict[str, str],
    tmp_path: Path,
) -> None:
    broker = TcpProxy(("127.0.0.1", 5672))
    call_id = f"e2e-{uuid.uuid4().hex[:8]}-broker-down"
    with run_kamailio(
        tmp_path,
        pbx_port=pbx.port,
        queue=queue,
        amqp_url=f"amqp://guest:guest@127.0.0.1:{broker.port}/%2F",
        PUBLISH_ATTEMPTS="2",
        PUBLISH_RETRY_US="100000",
    ) as kamailio:
        broker.cut()  # RabbitMQ is gone after Kamailio started
        pbx.start("uas_busy")
        done = place_call(scenarios, kamailio.port, call_id=call_id, busy=True)
        assert done.returncode == 0, done.stdout[-2000:]  # calls still go through
        wait_for(
            "two unsent events in the log",
            lambda: kamailio.log_text().count("ringtrail-sip-event-unsent") == 2,
        )
        replay = subprocess.run(
            [sys.executable, "-m", "ringtrail.cli.main", "sip-events", "--replay", kamailio.log],
            env=ringtrail_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert replay.returncode == 0, replay.stderr
    call = finished_call(db, call_id)
    assert call is not None
    assert (call.status, call.source) == ("busy", "flyer")
    assert queue_depth(queue) == 0
