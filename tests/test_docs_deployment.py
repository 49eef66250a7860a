"""docs/deployment.md and the files in deploy/ it points to stay usable together."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.main import get_command

from ringtrail.cli.main import app
from ringtrail.settings import Settings

ROOT = Path(__file__).parents[1]
DEPLOYMENT = ROOT / "docs" / "deployment.md"
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def test_every_deploy_file_the_deployment_docs_name_exists() -> None:
    named = set(re.findall(r"deploy/[\w./-]*\w", DEPLOYMENT.read_text(encoding="utf-8")))
    assert {"deploy/systemd/ringtrail-web.service", "deploy/nginx/ringtrail.conf"} <= named
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"docs/deployment.md names files that do not exist: {missing}"


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_each_unit_runs_a_ringtrail_command_with_options_that_exist(unit: Path) -> None:
    start = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
    words = shlex.split(start.removeprefix("ExecStart="))
    assert words[0] == "/opt/ringtrail/venv/bin/ringtrail"
    command = get_command(app).commands[words[1]]  # type: ignore[attr-defined]
    known = {option for param in command.params for option in param.opts}
    assert {word for word in words[2:] if word.startswith("--")} <= known


def test_the_example_settings_file_holds_only_known_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RINGTRAIL_CONFIG_FILE", str(DEPLOY / "ringtrail.toml"))
    settings = Settings()
    assert settings.public_url.startswith("https://")
    assert settings.redis_url
