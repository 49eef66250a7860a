"""Fuzzing fixtures: the example budget and a check that the app logged no error.

The request counter and its end-of-run report live in tests/fuzz/budget.py, a plugin loaded
by tests/conftest.py so that it also runs in pytest-xdist's controller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.fuzz.budget import count_request, examples

__all__ = ["count_request", "examples"]


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test when the app logged an error (an unhandled exception) while fuzzed."""
    with caplog.at_level(logging.ERROR):
        yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[:5]
