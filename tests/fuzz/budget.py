"""The fuzzing budget: a count of generated requests, reported at the end of the run.

`RINGTRAIL_FUZZ_SCALE` (default 1.0) multiplies every example count, so a long local run can
go deeper. Under CI=true a run that fuzzed with fewer than MIN_CI_REQUESTS generated requests
fails: the budget must not shrink unnoticed.

A plugin (loaded by tests/conftest.py), not a conftest of this folder: under pytest-xdist the
controller collects nothing, so it never loads tests/fuzz/conftest.py. Each worker counts its
own requests and hands the count over in `workeroutput`; the controller adds them up, reports
the total and applies the CI minimum to the whole run.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

SCALE = float(os.environ.get("RINGTRAIL_FUZZ_SCALE", "1.0"))
MIN_CI_REQUESTS = 10_000
REQUESTS: Counter[str] = Counter()
WORKER_OUTPUT_KEY = "ringtrail_fuzz_requests"


def examples(count: int) -> int:
    """`count` generated examples, scaled by RINGTRAIL_FUZZ_SCALE."""
    return max(1, round(count * SCALE))


def count_request(kind: str) -> None:
    """Count one generated request sent to the app."""
    REQUESTS[kind] += 1


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Controller: add the requests a finished xdist worker sent."""
    REQUESTS.update(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY, {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REQUESTS:
        return
    parts = ", ".join(f"{kind} {count}" for kind, count in sorted(REQUESTS.items()))
    terminalreporter.write_line(
        f"fuzzing: {sum(REQUESTS.values())} generated requests, no 5xx ({parts})"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if is_xdist_worker(session.config):
        # A worker only reports what it sent; the controller judges the whole run.
        session.config.workeroutput[WORKER_OUTPUT_KEY] = dict(REQUESTS)  # type: ignore[attr-defined]
        return
    fuzzed = sum(REQUESTS.values())
    whole_run = not session.config.option.keyword and not session.config.option.markexpr
    if os.environ.get("CI", "").lower() == "true" and whole_run and 0 < fuzzed < MIN_CI_REQUESTS:
        session.config.get_terminal_writer().line(
            f"fuzzing sent {fuzzed} generated requests; CI needs at least {MIN_CI_REQUESTS}",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
