"""Fuzzing fixtures: a request counter reported at the end of the run, and the example budget.

`RINGTRAIL_FUZZ_SCALE` (default 1.0) multiplies every example count, so a long local run can
go deeper. Under CI=true a run that fuzzed with fewer than MIN_CI_REQUESTS generated requests
fails: the budget must not shrink unnoticed.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator

import pytest

SCALE = float(os.environ.get("RINGTRAIL_FUZZ_SCALE", "1.0"))
MIN_CI_REQUESTS = 10_000
REQUESTS: Counter[str] = Counter()


def examples(count: int) -> int:
    """`count` generated examples, scaled by RINGTRAIL_FUZZ_SCALE."""
    return max(1, round(count * SCALE))


def count_request(kind: str) -> None:
    """Count one generated request sent to the app."""
    REQUESTS[kind] += 1


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test when the app logged an error (an unhandled exception) while fuzzed."""
    with caplog.at_level(logging.ERROR):
        yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[:5]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REQUESTS:
        return
    parts = ", ".join(f"{kind} {count}" for kind, count in sorted(REQUESTS.items()))
    terminalreporter.write_line(
        f"fuzzing: {sum(REQUESTS.values())} generated requests, no 5xx ({parts})"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    fuzzed = sum(REQUESTS.values())
    whole_run = not session.config.option.keyword and not session.config.option.markexpr
    if os.environ.get("CI", "").lower() == "true" and whole_run and 0 < fuzzed < MIN_CI_REQUESTS:
        session.config.get_terminal_writer().line(
            f"fuzzing sent {fuzzed} generated requests; CI needs at least {MIN_CI_REQUESTS}",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
