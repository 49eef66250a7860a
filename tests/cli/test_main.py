"""The root command: version, help, and `python -m ringtrail.cli.main`."""

from __future__ import annotations

import subprocess
import sys

from ringtrail import __version__
from tests.cli.conftest import Invoke, assert_one_error_line


def test_version_prints_the_package_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ringtrail {__version__}"


def test_no_command_shows_the_help_and_exits_2(invoke: Invoke) -> None:
    result = invoke()
    assert result.exit_code == 2
    assert "serve" in result.output and "demo" in result.output


def test_unknown_command_is_a_one_line_usage_error(invoke: Invoke) -> None:
    line = assert_one_error_line(invoke("frobnicate"), 2)
    assert "frobnicate" in line


def test_module_runs_with_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ringtrail.cli.main", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ringtrail {__version__}"
