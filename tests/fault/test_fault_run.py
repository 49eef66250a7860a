"""The fault-tolerance run (bench/fault_run.py), shortened: 3 API processes and 2 workers on a
PostgreSQL and a Redis of its own, under load, while an API process is killed, Redis and
PostgreSQL restart and the database link is cut. Every check of the run must hold.

It needs the PostgreSQL server binaries (initdb, pg_ctl) and redis-server; without them it
fails, never skips. It touches neither the test PostgreSQL nor the test Redis.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from faults.services import MissingServer, postgres_bin_dir, redis_server_binary

from tests.conftest import SPAWNS_PROCESSES

pytestmark = SPAWNS_PROCESSES

ROOT = Path(__file__).resolve().parents[2]
SHORT_RUN = [
    "--warmup", "8",
    "--gap", "15",
    "--cut-seconds", "6",
    "--restart-delay", "2",
    "--redis-down", "2",
    "--grace", "30",
]  # fmt: skip
RUN_LIMIT_SECONDS = 270


def run_script(args: list[str], timeout: float) -> tuple[int, str]:
    """Run the script; on timeout SIGTERM it (it cleans up after itself), then SIGKILL."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fault_run.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        pytest.fail(f"the fault run took over {timeout:.0f} s:\n{output}", pytrace=False)
    return process.returncode, output


@pytest.mark.timeout(RUN_LIMIT_SECONDS + 90)
def test_the_service_survives_every_fault_and_loses_nothing(tmp_path: Path) -> None:
    try:
        postgres_bin_dir()
        redis_server_binary()
    except MissingServer as exc:
        pytest.fail(str(exc), pytrace=False)
    figures_file = tmp_path / "fault-run.json"

    code, output = run_script([*SHORT_RUN, "--json", str(figures_file)], RUN_LIMIT_SECONDS)

    assert code == 0, output
    figures = json.loads(figures_file.read_text())
    assert all(check["passed"] for check in figures["checks"]), output
    assert [fault["name"] for fault in figures["faults"]] == [
        "kill-api",
        "restart-redis",
        "restart-postgres",
        "cut-database",
    ]
    # The faults were real: the senders met them and had to retry.
    errors = {fault["name"]: fault["errors"] for fault in figures["faults"]}
    assert errors["kill-api"].get("connection refused"), output
    assert errors["cut-database"].get("http 503"), output
    assert figures["call_events_refused_at_first"] > 0, output
    assert figures["call_events_accepted"] == figures["call_events"] > 100, output
    assert figures["holds_seen"] > 50, output
