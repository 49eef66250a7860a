"""README "Running it for real": its commands, run as written, leave a site that swaps numbers."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ringtrail.runtime import bootstrap
from ringtrail.services.tracking_config import load_tracking_config
from ringtrail.settings import Settings
from ringtrail.storage.db import unit_of_work
from ringtrail.storage.models import Project
from tests.cli.conftest import Invoke

README = Path(__file__).parents[2] / "README.md"
SKIPPED = {"pip", "serve"}  # installing, and the server that would run until stopped


def _commands() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("## Running it for real", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "ringtrail" and words[1] not in SKIPPED:
            commands.append(words[1:])
    return commands


def test_the_readme_goes_from_a_new_project_to_a_pool_every_visit_sees(
    invoke: Invoke, embedded_env: dict[str, str]
) -> None:
    commands = _commands()
    assert [c[:2] for c in commands] == [
        ["user", "create"], ["project", "create"], ["pool", "create"], ["rule", "add"],
    ]  # fmt: skip
    for args in commands:
        result = invoke(*args, RINGTRAIL_PASSWORD="a-long-enough-password")
        assert result.exit_code == 0, (args, result.output)
        assert "warning" not in result.stderr or args[0] == "pool", result.stderr
    assert "warning" not in invoke("pool", "list", "--project", "1").stderr
    settings = Settings(
        data_dir=Path(embedded_env["RINGTRAIL_DATA_DIR"]),
        secret_key=embedded_env["RINGTRAIL_SECRET_KEY"],
        database_url="",
        redis_url="",
    )
    runtime = bootstrap(settings)
    try:
        with unit_of_work(runtime.sessions) as db:
            project = db.get(Project, 1)
            assert project is not None
            config = load_tracking_config(db, project.public_key)
    finally:
        runtime.close()
    assert config is not None
    assert config.originals == ("+12125550100",)
    [rule] = config.rules
    assert rule.conditions == () and rule.pool_id in config.pools
